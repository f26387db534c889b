import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/oci/digest.js';
import { runCli } from '../../support/cli.js';
import { tempPack } from '../../support/packs.js';
import { stage } from '../../support/stage.js';

const temp = stage();

describe('copy flags', () => {
  it('refuses --check-images (copy checks no images) and --identity-token(-stdin) (no side reads one) instead of ignoring them, and copies nothing', async () => {
    const { root: dir, pack } = await tempPack(temp, { name: 'imgs', version: '1.0.0' });
    const from = join(dir, 'from');
    const to = join(dir, 'to');
    expect((await runCli(['push', pack, '--oci-layout', from])).code).toBe(0);

    const run = await runCli(['copy', 'imgs:1.0.0', '--from', `oci:${from}`, '--to', `oci:${to}`, '--check-images']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: unknown flag --check-images\n/);
    await expect(readdir(to)).rejects.toThrow(); // nothing was copied
    // Neither side reads an identity token: refused too (it was dropped without a word, exit 0).
    for (const flag of [['--identity-token', 'abc'], ['--identity-token-stdin']]) {
      const token = await runCli(['copy', 'imgs:1.0.0', '--from', `oci:${from}`, '--to', `oci:${to}`, ...flag], { stdin: 'abc\n' });
      expect(token.code, flag[0]).toBe(2);
      expect(token.stderr).toMatch(new RegExp(`^error: unknown flag ${flag[0]}\\n`));
      await expect(readdir(to)).rejects.toThrow();
    }

    const help = await runCli(['copy', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).not.toContain('--check-images');
    expect(help.stdout).not.toContain('--identity-token');
    // Each side's help names the negation copy has; push's --no-plain-http is refused by copy. (Words only:
    // yargs wraps the descriptions at its own width.)
    const words = help.stdout.replace(/\s+/g, ' ');
    expect(words).toContain('--no-from-plain-http forces HTTPS');
    expect(words).toContain('--no-to-plain-http forces HTTPS');
    expect(words).not.toMatch(/[^-]--no-plain-http/);
    const negated = await runCli(['copy', 'imgs:1.0.0', '--from', `oci:${from}`, '--to', `oci:${to}`, '--no-plain-http']);
    expect(negated.code).toBe(2);
    expect(negated.stderr).toMatch(/^error: unknown flag --no-plain-http: did you mean --to-plain-http\?\n/);
  });
});

describe('a digest reference in an OCI layout', () => {
  it('is printed as oci:DIR/...@sha256:..., which inspect reads back (README: inspect takes <name>@sha256:<digest>)', async () => {
    const { root: dir, pack } = await tempPack(temp, { name: 'bydigest', version: '1.0.0' });
    const layout = join(dir, 'layout');
    expect((await runCli(['push', pack, '--oci-layout', layout])).code).toBe(0);
    const repo = join(layout, 'spectro-packs/archive/bydigest');
    const index = JSON.parse(await readFile(join(repo, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const digest = index.manifests[0]!.digest;
    expect(digest).toBe(sha256Digest(await readFile(join(repo, 'blobs/sha256', digest.slice('sha256:'.length)))));

    const first = await runCli(['inspect', `bydigest@${digest}`, '--oci-layout', layout]);
    expect(first.code).toBe(0);
    const printed = first.stdout.split('\n')[0]!;
    expect(printed).toBe(`oci:${repo}@${digest}`);

    const again = await runCli(['inspect', printed]);
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n')[0]).toBe(printed);
  });
});
