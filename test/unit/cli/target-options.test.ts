import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFlags, configuredPackRoots, configuredRunDefaults, resolveTargetOptions } from '../../../src/cli/target-options.js';
import type { Args, CliContext } from '../../../src/cli/context.js';
import { targetFlags } from '../../../src/cli/target-flags.js';
import { PackpubError } from '../../../src/errors.js';
import type { OpenTargetOptions } from '../../../src/targets/open.js';
import { tempDir } from '../../support/packs.js';

/*
 * The CLI glue that turns --target / --registry / packpub.yaml / environment into target options, checked
 * through what a registry would receive: the location, TLS settings and the credential each target sends.
 */

let root: string;
let home: string;
let cleanup: () => Promise<void>;

const CONFIG = `
packs: [packs/]
recursive: true
defaults:
  target: harbor
  strict: true
  concurrency: 3
targets:
  harbor:
    registry: harbor.example.com/spectro-oci-registry
    type: harbor
    auth:
      username: robot$spectro-oci-registry+ci
      passwordEnv: HARBOR_PASSWORD
    tls:
      caFile: certs/harbor-ca.pem
      plainHttp: false
    harbor:
      createProject: true
  ecr:
    registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com/spectro-oci-registry
    ecr:
      createRepositories: false
      tagMutability: IMMUTABLE
      encryption: KMS
      kmsKey: alias/packs
      awsProfile: file-profile
  local:
    ociLayout: ./layout
`;

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('packpub-target-options-'));
  home = join(root, 'home');
  await mkdir(home, { recursive: true });
  await writeFile(join(root, 'packpub.yaml'), CONFIG);
});
afterAll(async () => cleanup());

interface Parsed {
  args: Args;
  ctx: CliContext;
  stderr: () => string;
}

/** Parse a push-like command line as the CLI would, with a fresh context. */
async function parse(argv: string[], env: NodeJS.ProcessEnv = {}, stdin = ''): Promise<Parsed> {
  let captured: Args | undefined;
  await yargs(argv)
    .exitProcess(false)
    .strict()
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .command({
      command: 'push [packs...]',
      describe: 'push',
      builder: (y) =>
        configFlags(targetFlags(y))
          .option('recursive', { type: 'boolean', default: false })
          .option('strict', { type: 'boolean', default: false })
          .option('force', { type: 'boolean', default: false })
          .option('skip-existing', { type: 'boolean', default: false })
          .option('continue-on-error', { type: 'boolean', default: false })
          .option('fail-fast', { type: 'boolean', default: false })
          .option('concurrency', { type: 'number' }),
      handler: (a) => {
        captured = a as Args;
      },
    })
    .parseAsync();
  if (captured === undefined) throw new Error('not parsed');
  const err: Buffer[] = [];
  const stderr = new PassThrough();
  stderr.on('data', (c: Buffer) => err.push(c));
  const ctx: CliContext = {
    io: { stdout: new PassThrough(), stderr, stdin: Readable.from(stdin === '' ? [] : [Buffer.from(stdin)]), env: { HOME: home, ...env }, cwd: root },
    exitCode: 0,
  };
  return { args: captured, ctx, stderr: () => Buffer.concat(err).toString('utf8') };
}

async function targets(argv: string[], env: NodeJS.ProcessEnv = {}, stdin = ''): Promise<OpenTargetOptions[]> {
  const { args, ctx } = await parse(argv, env, stdin);
  return resolveTargetOptions(args, ctx);
}

async function usage(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<PackpubError> {
  try {
    await targets(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(PackpubError);
    return err as PackpubError;
  }
  throw new Error('expected an error');
}

/** What the target would send to its registry host. */
async function credentialFor(options: OpenTargetOptions | undefined): Promise<{ username?: string; password?: string; source?: string }> {
  if (options?.credentials === undefined || options.registry === undefined) throw new Error('no credentials');
  const host = options.registry.split('/')[0] ?? '';
  const c = await options.credentials.resolve(host);
  return { ...(c?.username === undefined ? {} : { username: c.username }), ...(c?.password === undefined ? {} : { password: c.password }), ...(c?.source === undefined ? {} : { source: c.source }) };
}

describe('resolveTargetOptions', () => {
  it('opens a named target with the settings from the file', async () => {
    const [t, ...rest] = await targets(['push', '--target', 'harbor'], { HARBOR_PASSWORD: 'from-secret' });
    expect(rest).toEqual([]);
    expect(t).toMatchObject({ registry: 'harbor.example.com/spectro-oci-registry', type: 'harbor', caFile: join(root, 'certs/harbor-ca.pem'), plainHttp: false, createProject: true });
    expect(await credentialFor(t)).toEqual({ username: 'robot$spectro-oci-registry+ci', password: 'from-secret', source: `${join(root, 'packpub.yaml')} (targets.harbor.auth)` });
  });

  it('flags beat the environment, which beats the file', async () => {
    const [fromFlags] = await targets(
      ['push', '--target', 'harbor', '--ca-file', '/flag/ca.pem', '--plain-http', '--registry-type', 'generic', '--username', 'flag-user', '--password-stdin'],
      { HARBOR_PASSWORD: 'from-secret', PACKPUB_USERNAME: 'env-user', PACKPUB_PASSWORD: 'env-pass' },
      'stdin-pass\n',
    );
    expect(fromFlags).toMatchObject({ caFile: '/flag/ca.pem', plainHttp: true, type: 'generic', registry: 'harbor.example.com/spectro-oci-registry' });
    expect(await credentialFor(fromFlags)).toMatchObject({ username: 'flag-user', password: 'stdin-pass' });

    const [fromEnv] = await targets(['push', '--target', 'harbor'], { HARBOR_PASSWORD: 'from-secret', PACKPUB_USERNAME: 'env-user', PACKPUB_PASSWORD: 'env-pass' });
    expect(await credentialFor(fromEnv)).toMatchObject({ username: 'env-user', password: 'env-pass' });

    const [fromFile] = await targets(['push', '--target', 'harbor'], { HARBOR_PASSWORD: 'from-secret' });
    expect(await credentialFor(fromFile)).toMatchObject({ username: 'robot$spectro-oci-registry+ci', password: 'from-secret' });
  });

  it('merges ECR repository settings: a given flag wins, the file fills the rest', async () => {
    const [fileOnly] = await targets(['push', '--target', 'ecr']);
    expect(fileOnly?.ecrRepositories).toEqual({ create: false, tagMutability: 'IMMUTABLE', encryption: 'KMS', kmsKey: 'alias/packs' });
    expect(fileOnly?.awsProfile).toBe('file-profile');

    const [flags] = await targets(['push', '--target', 'ecr', '--ecr-tag-mutability', 'MUTABLE', '--ecr-tag', 'team=x', '--aws-profile', 'flag-profile']);
    expect(flags?.ecrRepositories).toEqual({ create: false, tagMutability: 'MUTABLE', encryption: 'KMS', kmsKey: 'alias/packs', tags: { team: 'x' } });
    expect(flags?.awsProfile).toBe('flag-profile');

    // AWS_PROFILE in the environment beats the file: the SDK reads it, so packpub passes none.
    const [env] = await targets(['push', '--target', 'ecr'], { AWS_PROFILE: 'env-profile' });
    expect(env?.awsProfile).toBeUndefined();
  });

  it('uses defaults.target when nothing names a target; PACKPUB_REGISTRY and flags replace it', async () => {
    const [byDefault] = await targets(['push'], { HARBOR_PASSWORD: 'p' });
    expect(byDefault?.registry).toBe('harbor.example.com/spectro-oci-registry');
    expect(byDefault?.type).toBe('harbor');

    const [byEnv] = await targets(['push'], { PACKPUB_REGISTRY: 'env.example.com/base' });
    expect(byEnv?.registry).toBe('env.example.com/base');
    expect(byEnv?.type).toBeUndefined();

    const [byFlag] = await targets(['push', '--registry', 'flag.example.com/base'], { PACKPUB_REGISTRY: 'env.example.com/base' });
    expect(byFlag?.registry).toBe('flag.example.com/base');

    const [layout] = await targets(['push', '--oci-layout', 'somewhere']);
    expect(layout?.registry).toBeUndefined();
    expect(layout?.ociLayout).toBe('somewhere');
  });

  it('returns one target per --registry, and per --target (repeated or comma-separated)', async () => {
    const regs = await targets(['push', '--registry', 'a.example.com/x', '--registry', 'b.example.com/y']);
    expect(regs.map((t) => t.registry)).toEqual(['a.example.com/x', 'b.example.com/y']);

    const named = await targets(['push', '--target', 'harbor,ecr', '--target', 'local'], { HARBOR_PASSWORD: 'p' });
    expect(named.map((t) => t.registry ?? t.ociLayout)).toEqual([
      'harbor.example.com/spectro-oci-registry',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/spectro-oci-registry',
      join(root, 'layout'),
    ]);
    // Each target keeps its own credential: the Harbor robot is not offered to ECR.
    expect(await credentialFor(named[0])).toMatchObject({ username: 'robot$spectro-oci-registry+ci' });
    // (asked for a non-ECR host so that the ECR provider stays out of it: the chain holds no robot at all)
    expect((await named[1]?.credentials?.resolve('harbor.example.com'))?.username).toBeUndefined();
  });

  it.each([
    [['push', '--target', 'harbor', '--registry', 'r.example.com/x'], {}, /--target harbor and --registry r\.example\.com\/x exclude each other/],
    [['push', '--target', 'local', '--oci-layout', 'dir'], {}, /--target local and --oci-layout dir exclude each other/],
    [['push', '--target', 'nope'], {}, /target "nope" is not defined in .*packpub\.yaml/],
    [['push', '--registry', 'a.example.com/x', '--registry', 'b.example.com/y', '--username', 'u', '--password-stdin'], {}, /--username \/ --password-stdin would be sent to every one of the 2 registries/],
    [['push', '--target', 'harbor', '--target', 'ecr'], { PACKPUB_USERNAME: 'u', PACKPUB_PASSWORD: 'p', HARBOR_PASSWORD: 'p' }, /PACKPUB_USERNAME \/ PACKPUB_PASSWORD would be sent to every one of the targets harbor, ecr/],
    [['push', '--registry', 'a.example.com/x', '--registry', 'a.example.com/x'], {}, /the same --registry is given twice/],
  ])('refuses %j', async (argv, env, expected) => {
    const err = await usage(argv, env);
    expect(err.code).toBe('USAGE');
    expect(err.message).toMatch(expected);
  });

  it('names the unset password variable of a configured target', async () => {
    const err = await usage(['push', '--target', 'harbor']);
    expect(err.code).toBe('CONFIG');
    expect(err.message).toContain('targets.harbor.auth.passwordEnv');
    expect(err.message).toContain('HARBOR_PASSWORD, which is not set');
  });

  it('lists the defined targets when a name is unknown', async () => {
    const err = await usage(['push', '--target', 'prod']);
    expect(err.hint).toBe('defined targets: harbor, ecr, local');
  });

  it('warns on stderr, once, about a target with tls.insecure', async () => {
    await writeFile(join(root, 'insecure.yaml'), 'targets:\n  lab:\n    registry: lab.example.com/p\n    tls:\n      insecure: true\n');
    const { args, ctx, stderr } = await parse(['push', '--config', 'insecure.yaml', '--target', 'lab']);
    const [t] = await resolveTargetOptions(args, ctx);
    expect(t?.insecure).toBe(true);
    expect(stderr().match(/warning: target lab has tls\.insecure/g)).toHaveLength(1);
  });
});

describe('configuredPackRoots and configuredRunDefaults', () => {
  it('uses the file pack roots when push gets no pack arguments', async () => {
    const fromFile = await parse(['push', '--target', 'local']);
    expect(await configuredPackRoots(fromFile.args, fromFile.ctx)).toEqual({ packs: [join(root, 'packs')], recursive: true });
    const given = await parse(['push', 'a', 'b,c']);
    expect(await configuredPackRoots(given.args, given.ctx)).toEqual({ packs: ['a', 'b,c'], recursive: false });
  });

  it('asks for packs when neither the command line nor the file names any', async () => {
    await writeFile(join(root, 'nopacks.yaml'), 'targets:\n  l:\n    ociLayout: x\n');
    const { args, ctx } = await parse(['push', '--config', 'nopacks.yaml']);
    await expect(configuredPackRoots(args, ctx)).rejects.toThrow(/no packs to push/);
  });

  it('takes run settings from defaults: unless a flag gives them', async () => {
    const file = await parse(['push']);
    expect(await configuredRunDefaults(file.args, file.ctx)).toEqual({ concurrency: 3, strict: true, continueOnError: false, failFast: false, skipExisting: false });
    const flags = await parse(['push', '--concurrency', '7', '--fail-fast', '--skip-existing']);
    expect(await configuredRunDefaults(flags.args, flags.ctx)).toEqual({ concurrency: 7, strict: true, continueOnError: false, failFast: true, skipExisting: true });
  });
});
