import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushCommand } from '../../../src/cli/commands/push.js';
import { configuredPackRoots, configuredRunDefaults, parseSide, resolveSideOptions, resolveTargetOptions } from '../../../src/cli/target-options.js';
import type { Args, CliContext, CommandSpec } from '../../../src/cli/context.js';
import { copyCommand } from '../../../src/cli/commands/copy.js';
import { skipHelpCache } from '../../../src/cli/main.js';
import { prepareArgs } from '../../../src/cli/target-flags.js';
import { PackpubError } from '../../../src/errors.js';
import { targetCredentialChain } from '../../../src/targets/credential-chain.js';
import type { OpenTargetOptions } from '../../../src/targets/open.js';
import { HARBOR_TARGET_YAML } from '../../support/config.js';
import { tempDir } from '../../support/files.js';

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
${HARBOR_TARGET_YAML}    tls:
      caFile: certs/harbor-ca.pem
      certFile: certs/client.pem
      keyFile: certs/client.key
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
async function parse(argv: string[], env: NodeJS.ProcessEnv = {}, stdin = '', spec: CommandSpec = pushCommand): Promise<Parsed> {
  let captured: Args | undefined;
  const parser = yargs(argv)
    .exitProcess(false)
    .strict()
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .command({
      command: spec.command,
      describe: 'under test',
      builder: spec.builder,
      handler: (a) => {
        captured = a as Args;
        prepareArgs(captured);
      },
    });
  // As main() does: no help text rendered before every run (most of this file's CPU otherwise).
  skipHelpCache(parser);
  await parser.parseAsync();
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
  if (options?.registry === undefined) throw new Error('no registry');
  const host = options.registry.split('/')[0] ?? '';
  const c = await (options.credentials ?? targetCredentialChain(options)).resolve(host);
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

  it('takes the client certificate as a pair (flags, else the file) and headers from the flags only', async () => {
    const [fromFile] = await targets(['push', '--target', 'harbor'], { HARBOR_PASSWORD: 'p' });
    expect(fromFile).toMatchObject({ certFile: join(root, 'certs/client.pem'), keyFile: join(root, 'certs/client.key') });
    expect(fromFile?.headers).toBeUndefined();
    const [fromFlags] = await targets(['push', '--target', 'harbor', '--cert-file', '/f/c.pem', '--key-file', '/f/c.key', '-H', 'X-Tenant: t1', '-H', 'X-Trace: on'], { HARBOR_PASSWORD: 'p' });
    expect(fromFlags).toMatchObject({ certFile: '/f/c.pem', keyFile: '/f/c.key', headers: { 'x-tenant': 't1', 'x-trace': 'on' } });
    await expect(targets(['push', '--target', 'harbor', '--cert-file', '/f/c.pem'], { HARBOR_PASSWORD: 'p' })).rejects.toThrow('--cert-file needs --key-file');
  });

  it('copy: each side gets its own client certificate and headers', async () => {
    const { args, ctx } = await parse(
      ['copy', 'a:1.0.0', '--from', 'src.example.com/p', '--to', 'dst.example.com/p', '--to-cert-file', '/t/c.pem', '--to-key-file', '/t/c.key', '--from-header', 'X-Side: from'],
      {},
      '',
      copyCommand,
    );
    const from = await resolveSideOptions(args, ctx, 'from');
    const to = await resolveSideOptions(args, ctx, 'to');
    expect([from.certFile, from.keyFile, from.headers]).toEqual([undefined, undefined, { 'x-side': 'from' }]);
    expect([to.certFile, to.keyFile, to.headers]).toEqual(['/t/c.pem', '/t/c.key', undefined]);
    const half = await parse(['copy', 'a:1.0.0', '--from', 'src.example.com/p', '--to', 'dst.example.com/p', '--to-key-file', '/t/c.key'], {}, '', copyCommand);
    await expect(resolveSideOptions(half.args, half.ctx, 'to')).rejects.toThrow('--to-key-file needs --to-cert-file');
  });

  it('ECR flags for a run with no ECR target are named as ignored, once (was: dropped without a word); with an ECR target, no warning', async () => {
    const generic = await parse(['push', '--registry', 'r.example.com/p', '--registry', 'q.example.com/p', '--ecr-encryption', 'KMS', '--ecr-tag', 'team=x', '--aws-profile', 'p']);
    const options = await resolveTargetOptions(generic.args, generic.ctx);
    expect(options.map((o) => o.ecrRepositories)).toEqual([
      { create: true, encryption: 'KMS', tags: { team: 'x' } },
      { create: true, encryption: 'KMS', tags: { team: 'x' } },
    ]);
    expect(generic.stderr()).toBe('warning: --ecr-encryption, --ecr-tag, --aws-profile ignored: no target of this run is an AWS ECR registry (give --registry-type ecr if it is one)\n');
    const layout = await parse(['push', '--target', 'local', '--no-create-repositories']);
    await resolveTargetOptions(layout.args, layout.ctx);
    expect(layout.stderr()).toBe('warning: --no-create-repositories ignored: the target is not an AWS ECR registry\n');
    // A layout with --registry-type ecr: both named (was: only --registry-type, --ecr-encryption dropped without a word).
    const typed = await parse(['push', '--oci-layout', 'out', '--registry-type', 'ecr', '--ecr-encryption', 'KMS']);
    await resolveTargetOptions(typed.args, typed.ctx);
    expect(typed.stderr()).toBe('warning: --registry-type ignored: the target (out) is a local OCI layout, not a registry\nwarning: --ecr-encryption ignored: the target is not an AWS ECR registry\n');
    // `oci:-` names no folder (was: a layout folder named "-").
    expect(() => parseSide('oci:-', { warnings: [] }, { cwd: '/w', env: {} })).toThrow('"oci:-" names standard input or output, not a folder');
    const both = await parse(['push', '--target', 'harbor,ecr', '--ecr-encryption', 'KMS', '--ecr-kms-key', 'k'], { HARBOR_PASSWORD: 'p' });
    await resolveTargetOptions(both.args, both.ctx);
    expect(both.stderr()).toBe('');
  });

  // issue 11 point 3: flags that exclude each other are refused in one function, prepareArgs, whichever command has them.
  it.each([
    [{ force: true, skipExisting: true }, '--force and --skip-existing contradict each other: choose one'],
    [{ json: true, jsonLines: true }, '--json and --json-lines contradict each other: choose one'],
    [{ registry: ['r.example.com/p'], ociLayout: 'out' }, 'give either --registry or --oci-layout, not both'],
    [{ identityToken: 't', identityTokenStdin: true }, 'give either --identity-token or --identity-token-stdin, not both'],
    [{ paletteApiKeyStdin: true, passwordStdin: true }, '--palette-api-key-stdin and --password-stdin cannot both read standard input'],
    [{ paletteApiKeyStdin: true, identityTokenStdin: true }, '--palette-api-key-stdin and --identity-token-stdin cannot both read standard input'],
    [{ fromPasswordStdin: true, toPasswordStdin: true }, '--from-password-stdin and --to-password-stdin cannot both read standard input'],
  ])('prepareArgs refuses %j', (given, message) => {
    expect(() => prepareArgs({ _: ['push'], $0: 'packpub', ...given } as Args)).toThrow(message);
    // Either alone, or the switch off, is no contradiction.
    for (const [key, value] of Object.entries(given)) prepareArgs({ _: ['push'], $0: 'packpub', [key]: value } as Args);
    prepareArgs({ _: ['push'], $0: 'packpub', ...given, [Object.keys(given)[1] as string]: false } as Args);
  });

  it('copy --to "oci: " (blanks) is refused as "oci:" is (was: a layout in a folder named " ")', () => {
    expect(() => parseSide('oci: ', { warnings: [] }, { cwd: '/w', env: {} })).toThrow('"oci:" needs a directory, e.g. oci:./oci-packs');
  });

  it('merges ECR repository settings: a given flag wins, the file fills the rest', async () => {
    const [fileOnly] = await targets(['push', '--target', 'ecr']);
    expect(fileOnly?.ecrRepositories).toEqual({ create: false, tagMutability: 'IMMUTABLE', encryption: 'KMS', kmsKey: 'alias/packs' });
    expect(fileOnly?.awsProfile).toBe('file-profile');

    const [flags] = await targets(['push', '--target', 'ecr', '--ecr-tag-mutability', 'MUTABLE', '--ecr-tag', 'team=x', '--aws-profile', 'flag-profile']);
    expect(flags?.ecrRepositories).toEqual({ create: false, tagMutability: 'MUTABLE', encryption: 'KMS', kmsKey: 'alias/packs', tags: { team: 'x' } });
    expect(flags?.awsProfile).toBe('flag-profile');
    // A key given twice was the last value, silently (--annotation and the file's ecr.tags refuse it).
    await expect(targets(['push', '--target', 'ecr', '--ecr-tag', 'team=x', '--ecr-tag', 'team=y'])).rejects.toMatchObject({ code: 'USAGE', message: '--ecr-tag team is given twice' });

    // AWS_PROFILE in the run's environment beats the file, and is handed to the SDK (which reads the
    // process's environment, not the run's, when main() runs embedded).
    const [env] = await targets(['push', '--target', 'ecr'], { AWS_PROFILE: 'env-profile' });
    expect(env?.awsProfile).toBe('env-profile');
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
    // Relative to the run's folder (io.cwd), not the test process's.
    expect(layout?.ociLayout).toBe(join(root, 'somewhere'));
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
    expect((await targetCredentialChain(named[1]!).resolve('harbor.example.com'))?.username).toBeUndefined();
  });

  it.each([
    [['push', '--target', 'harbor', '--registry', 'r.example.com/x'], {}, /--target harbor and --registry r\.example\.com\/x exclude each other/],
    [['push', '--target', 'local', '--oci-layout', 'dir'], {}, /--target local and --oci-layout dir exclude each other/],
    [['push', '--target', 'nope'], {}, /target "nope" is not defined in .*packpub\.yaml/],
    [['push', '--registry', 'a.example.com/x', '--registry', 'b.example.com/y', '--username', 'u', '--password-stdin'], {}, /--username \/ --password-stdin would be sent to every one of the 2 registries/],
    [['push', '--target', 'harbor', '--target', 'ecr'], { PACKPUB_USERNAME: 'u', PACKPUB_PASSWORD: 'p', HARBOR_PASSWORD: 'p' }, /PACKPUB_USERNAME \/ PACKPUB_PASSWORD would be sent to every one of the targets harbor, ecr/],
    [['push', '--registry', 'a.example.com/x', '--registry', 'a.example.com/x'], {}, /the same --registry is given twice/],
    [['push', '--registry', ''], {}, /--registry is empty/],
    [['push', '--registry', '  '], {}, /--registry is empty/],
    [['push'], { PACKPUB_REGISTRY: '' }, /PACKPUB_REGISTRY is set but empty/],
    [['push', '--force', '--skip-existing'], {}, /--force and --skip-existing contradict each other/],
    [['push', '--json', '--json-lines'], {}, /--json and --json-lines contradict each other/],
    [['push', '--concurrency', 'abc'], {}, /--concurrency must be a whole number from 1 to 64, got "abc"/],
    [['push', '--concurrency', '0'], {}, /--concurrency must be a whole number from 1 to 64, got "0"/],
    [['push', '--concurrency', '100'], {}, /--concurrency must be a whole number from 1 to 64, got "100"/],
    [['push', '--concurrency', '2.5'], {}, /--concurrency must be a whole number from 1 to 64/],
    [['push', '--retry-attempts', '0'], {}, /--retry-attempts must be a whole number from 1 to 100, got "0"/],
    [['push', '--request-timeout=-1'], {}, /--request-timeout must be a number above 0 and at most 86400, got "-1"/],
    [['push', '--retry-deadline', '1e400'], {}, /--retry-deadline must be a number above 0 and at most 86400, got "1e400"/],
    [['push', '--retry-delay', '-0.5'], {}, /--retry-delay must be a number from 0 to 60, got "-0.5"/],
    [['push', '--retry-delay', '61'], {}, /--retry-delay must be a number from 0 to 60, got "61"/],
    [['push', '--retry-delay', 'soon'], {}, /--retry-delay must be a number from 0 to 60, got "soon"/],
  ])('refuses %j', async (argv, env, expected) => {
    const err = await usage(argv, env);
    expect(err.code).toBe('USAGE');
    expect(err.message).toMatch(expected);
  });

  it('keeps PACKPUB_REGISTRY="" harmless when the command line names the target', async () => {
    const [t] = await targets(['push', '--registry', 'flag.example.com/base'], { PACKPUB_REGISTRY: '' });
    expect(t?.registry).toBe('flag.example.com/base');
  });

  it('passes numeric flags on as numbers: retry settings in milliseconds', async () => {
    const [t] = await targets(['push', '--registry', 'r.example.com/x', '--retry-attempts', '3', '--request-timeout', '1.5', '--retry-deadline', '20', '--retry-delay', '0.01']);
    expect(t?.retry).toEqual({ attempts: 3, requestTimeoutMs: 1500, deadlineMs: 20_000, initialDelayMs: 10 });
    const [layout] = await targets(['push', '--oci-layout', 'layout', '--retry-delay', '0']);
    expect(layout?.retry).toEqual({ initialDelayMs: 0 });
  });

  it.each([
    // [what the command line gives, environment, the credential the target sends]
    [['--target', 'harbor', '--username', 'flag-user'], { PACKPUB_PASSWORD: 'env-pass', HARBOR_PASSWORD: 'file-pass' }, { username: 'flag-user', password: 'env-pass', source: 'flags' }],
    [['--target', 'harbor'], { PACKPUB_USERNAME: 'env-user', PACKPUB_PASSWORD: 'env-pass', HARBOR_PASSWORD: 'file-pass' }, { username: 'env-user', password: 'env-pass', source: 'environment' }],
    [['--target', 'harbor'], { HARBOR_PASSWORD: 'file-pass' }, { username: 'robot$spectro-oci-registry+ci', password: 'file-pass' }],
    [['--registry', 'harbor.example.com/x', '--username', 'flag-user'], { PACKPUB_PASSWORD: 'env-pass' }, { username: 'flag-user', password: 'env-pass', source: 'flags' }],
    [['--registry', 'harbor.example.com/x'], { PACKPUB_USERNAME: 'env-user', PACKPUB_PASSWORD: 'env-pass' }, { username: 'env-user', password: 'env-pass', source: 'environment' }],
  ])('precedence of credentials: %j', async (argv, env, expected) => {
    const [t] = await targets(['push', ...argv], env);
    expect(await credentialFor(t)).toMatchObject(expected);
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
    // A flag turned off beats the file turning it on: --no-strict was ignored.
    const off = await parse(['push', '--no-strict']);
    expect(await configuredRunDefaults(off.args, off.ctx)).toMatchObject({ strict: false });
    const offEq = await parse(['push', '--strict=false']);
    expect(await configuredRunDefaults(offEq.args, offEq.ctx)).toMatchObject({ strict: false });
  });
});
