import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Args, CliContext } from '../../src/cli/context.js';
import { paletteClient, paletteTargetsOf } from '../../src/cli/palette-options.js';
import { PackpubError } from '../../src/errors.js';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { registryAdmin } from '../support/registry-admin.js';
import { setup } from '../support/stage.js';
import { paletteLabWithHello } from '../support/published.js';

/*
 * A Palette flag or variable left empty by an unset CI variable was read as "not given".
 * `--palette-endpoint "$PALETTE_URL"` (or SPECTROCLOUD_HOST set but empty) sent the API key of a self-hosted Palette
 * to the SaaS API, the default; `--palette-project ""` confirmed the packs at tenant scope, not in the project the
 * line meant. Now each is refused (exit 2) before anything is published or sent. The checks that would reach the
 * SaaS API on the old code are made in-process first (no request leaves loopback).
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup((stack) => paletteLabWithHello(stack, 'packpub-palette-empty-', KEY, clock));
const REPO = 'packs/spectro-packs/archive/hello';

function context(env: NodeJS.ProcessEnv): CliContext {
  return { io: { stdout: new PassThrough(), stderr: new PassThrough(), stdin: Readable.from([]), env, cwd: w.root }, exitCode: 0 };
}

async function usage(call: Promise<unknown>): Promise<PackpubError> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PackpubError);
  expect((err as PackpubError).code).toBe('USAGE');
  return err as PackpubError;
}

/** push --palette-sync with `extra`: exit 2 naming `message`; nothing published, Palette never asked. */
async function refusedBeforeAnything(extra: string[], env: NodeJS.ProcessEnv, message: string): Promise<void> {
  const asked = w.palette.requests.length;
  const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/packs`, '--palette-sync', '--palette-poll-interval', '0.02', ...extra], { env });
  expect(run.code, run.stdout + run.stderr).toBe(2);
  expect(run.stderr).toContain(`error: ${message}`);
  expect(run.stderr).toContain('an unset CI variable often leaves it empty');
  expect(await registryAdmin(w.registry).digestOf(REPO, '1.0.0')).toBeUndefined();
  expect(w.palette.requests.length).toBe(asked);
}

describe('Palette settings left empty by an unset CI variable', () => {
  it('--palette-endpoint "": refused (was: the key sent to the SaaS API)', async () => {
    const args = { _: ['push'], $0: 'packpub', paletteSync: true, paletteEndpoint: '' } as unknown as Args;
    const err = await usage(paletteTargetsOf(args, context(w.env), [{ registry: `${w.registry.host}/packs` }]));
    expect(err.message).toBe('--palette-endpoint is empty: the API key would go to the default Palette (SPECTROCLOUD_HOST, else the SaaS API) instead of yours');
    await refusedBeforeAnything(['--palette-endpoint', ''], w.env, '--palette-endpoint is empty');
  });

  it('SPECTROCLOUD_HOST set but empty: refused (was: the key sent to the SaaS API)', async () => {
    const env = { ...w.env, SPECTROCLOUD_HOST: '' };
    const args = { _: ['push'], $0: 'packpub', paletteSync: true } as unknown as Args;
    const err = await usage(paletteClient(args, context(env), undefined, true));
    expect(err.message).toBe('SPECTROCLOUD_HOST is set but empty: the API key would go to the SaaS API instead of your Palette');
    await refusedBeforeAnything([], env, 'SPECTROCLOUD_HOST is set but empty');
  });

  it('--palette-project "": refused (was: the packs confirmed at tenant scope, exit 0)', async () => {
    await refusedBeforeAnything(['--palette-project', ''], w.env, '--palette-project is empty: the packs would be confirmed at tenant scope instead of in your project');
  });

  it('palette sync and doctor refuse them too; given, the same run publishes and confirms', async () => {
    for (const extra of [['--palette-registry', ''], ['--palette-ca-file', ' ']]) {
      const run = await runCli(['palette', 'sync', '--registry', `${w.registry.host}/packs`, ...extra], { env: w.env });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: ${extra[0] ?? ''} is empty`);
    }
    const doctor = await runCli(['palette', 'doctor', '--registry', `${w.registry.host}/packs`, '--palette-project', ''], { env: w.env });
    expect(doctor.code, doctor.stderr).toBe(2);
    const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/packs`, '--palette-sync', '--palette-poll-interval', '0.02', '--palette-endpoint', w.palette.url], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('visible in Palette hello:1.0.0');
    expect(await registryAdmin(w.registry).digestOf(REPO, '1.0.0')).toMatch(/^sha256:/);
  });
});

describe('two flags that read standard input', () => {
  it('--palette-api-key-stdin with --identity-token-stdin: exit 2 naming both, nothing published (was: "empty password on standard input (--password-stdin)")', async () => {
    const asked = w.palette.requests.length;
    const held = await registryAdmin(w.registry).digestOf(REPO, '1.0.0');
    for (const argv of [
      ['push', w.pack, '--registry', `${w.registry.host}/packs`, '--palette-sync'],
      ['palette', 'sync', '--registry', `${w.registry.host}/packs`],
    ]) {
      const run = await runCli([...argv, '--palette-api-key-stdin', '--identity-token-stdin'], { env: w.env, stdin: `token\n${KEY}\n` });
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toContain('error: --palette-api-key-stdin and --identity-token-stdin cannot both read standard input');
    }
    expect(await registryAdmin(w.registry).digestOf(REPO, '1.0.0')).toBe(held);
    expect(w.palette.requests.length).toBe(asked);
  });
});
