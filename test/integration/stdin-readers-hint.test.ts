import { join } from 'node:path';
import { readdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * review28 (s34): two flags reading standard input are refused (cli/target-flags.ts CONTRADICTIONS), and the hint named
 * SPECTROCLOUD_APIKEY alone for the API key: with a packpub.yaml target whose palette.apiKeyEnv names another variable,
 * that variable is read instead, and a user who followed the hint was refused again ("palette.apiKeyEnv names
 * PROD_PALETTE_KEY, which is not set"). The hint now names both places.
 */
describe('--palette-api-key-stdin with another flag reading standard input', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-stdin-hint-');
    const pack = await writePack(join(root, 'pack'), { name: 'stdin-hint', version: '1.0.0' });
    await writeFile(
      join(root, 'packpub.yaml'),
      ['targets:', '  prod:', `    ociLayout: ${join(root, 'layout')}`, '    palette:', '      endpoint: https://palette.example.com', '      apiKeyEnv: PROD_PALETTE_KEY', ''].join('\n'),
    );
    return { root, pack };
  });

  it.each([
    ['--password-stdin', ['--username', 'ci', '--password-stdin'], '--palette-api-key-stdin and --password-stdin cannot both read standard input', "give the API key in SPECTROCLOUD_APIKEY (or the variable a packpub.yaml target's palette.apiKeyEnv names), or the registry password in PACKPUB_PASSWORD with --username (or the variable its auth.passwordEnv names)"],
    ['--identity-token-stdin', ['--identity-token-stdin'], '--palette-api-key-stdin and --identity-token-stdin cannot both read standard input', "give the API key in SPECTROCLOUD_APIKEY (or the variable a packpub.yaml target's palette.apiKeyEnv names), or the identity token in the Docker config (packpub login)"],
  ])('with %s: exit 2, the hint names palette.apiKeyEnv too, nothing written', async (_, flags, message, hint) => {
    const run = await runCli(['push', w.pack, '--target', 'prod', '--palette-sync', '--palette-api-key-stdin', ...flags], { cwd: w.root, stdin: 'key\n' });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toBe(`error: ${message}\nhint: ${hint}\n`);
    expect((await readdir(w.root)).sort()).toEqual(['pack', 'packpub.yaml']);
  });
});
