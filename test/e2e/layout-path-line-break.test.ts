import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';
import { helloPackAndEnv } from '../support/published.js';

/*
 * `--oci-layout "$OUT"` (or copy's `--to oci:$OUT`) whose value ends in a line break, as a CI variable written as a
 * YAML block (`OUT: |`) does: the packs were published into a folder named `out\n`, exit 0, and the next step
 * reading `out` found nothing. Now refused before anything is written, exit 2.
 */

describe('an OCI layout path holding a line break', () => {
  const w = setup(helloPackAndEnv);

  it('push --oci-layout and copy --to oci: are refused, exit 2, nothing made (was: a folder named "out\\n", exit 0)', async () => {
    const out = join(w.root, 'out');
    const push = await runCli(['push', w.pack, '--oci-layout', `${out}\n`], { env: w.env });
    expect(push.code, push.stdout + push.stderr).toBe(2);
    expect(push.stderr).toContain(`error: --oci-layout ${JSON.stringify(`${out}\n`)} holds a line break: a folder of that name would be made`);

    const layout = join(w.root, 'layout');
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env }), { code: 0 });
    const copy = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${layout}`, '--to', `oci:${out}\r\n`], { env: w.env });
    expect(copy.code, copy.stdout + copy.stderr).toBe(2);
    expect(copy.stderr).toContain('error: --to ');
    expect(copy.stderr).toContain('holds a line break');
    // Nothing beside the packs, the cache and the good layout.
    expect((await readdir(w.root)).sort()).toEqual(['cache', 'hello', 'layout']);
    expect(existsSync(out)).toBe(false);
  });
});
