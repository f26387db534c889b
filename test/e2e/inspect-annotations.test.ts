import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * review5 (s24): `inspect` (for a person) showed no annotation of the manifest: what `push --annotation` put there
 * (the source repository, the revision a CI run built) was only in `inspect --json`. Now listed, KEY=VALUE, after the
 * folder (`created` stays on its own line); what the registry holds is shown, never obeyed (control characters as U+XXXX).
 */

describe('inspect shows the manifest annotations', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    await cp('examples/hello-manifests', join(root, 'hello'), { recursive: true });
    return { root };
  });

  it('push --annotation: inspect lists them (was: only with --json)', async () => {
    const pushed = await runCli(
      ['push', 'hello', '--oci-layout', 'layout', '-a', 'org.opencontainers.image.revision=0123abc', '-a', 'org.opencontainers.image.source=https://git.example.com/packs', '-a', 'note=two\nlines'],
      { cwd: w.root },
    );
    expect(pushed.code, pushed.stderr).toBe(0);
    const run = await runCli(['inspect', 'hello-manifests:1.0.0', '--oci-layout', 'layout'], { cwd: w.root });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    const at = lines.indexOf('  annotations');
    expect(at, run.stdout).toBeGreaterThan(lines.findIndex((l) => l.startsWith('  folder ')));
    expect(lines.slice(at + 1, at + 4).sort()).toEqual(['    note=twoU+000Alines', '    org.opencontainers.image.revision=0123abc', '    org.opencontainers.image.source=https://git.example.com/packs']);
    expect(lines[at + 4]).toBe('  pack.json');
    // `created` is shown once, on its own line.
    expect(run.stdout).toMatch(/^ {2}created {3}\S+$/m);
    expect(run.stdout).not.toContain('org.opencontainers.image.created');
  });
});
