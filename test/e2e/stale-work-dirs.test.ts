import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { deadPid } from '../support/spawner.js';

describe('work folders left by a killed push', () => {
  let root: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir());
  });
  afterAll(async () => cleanup());

  it('are removed at the start of the next push; folders of live runs stay', async () => {
    const tmp = join(root, 'tmp');
    const parent = join(tmp, 'packpub-work');
    const stale = join(parent, `${await deadPid()}-abc123`);
    // A live run's: this test's parent process (the push runs in this one, in-process).
    const live = join(parent, `${process.ppid}-def456`);
    for (const dir of [stale, live]) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'hello__hello-1.0.0.tar.gz'), 'half-written archive');
    }
    const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
    const layout = join(root, 'store');
    const result = await runCli(['push', pack, '--oci-layout', layout], { env: { SOURCE_DATE_EPOCH: '1700000000' }, tmpdir: tmp });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`published hello:1.0.0 -> oci:${layout}/spectro-packs/archive/hello:1.0.0`);
    // The stale folder is gone, the live run's folder is untouched, and the run removed its own.
    expect((await readdir(parent)).sort()).toEqual([`${process.ppid}-def456`]);
    expect(await readdir(live)).toEqual(['hello__hello-1.0.0.tar.gz']);
    expect(await readdir(join(layout, 'spectro-packs/archive/hello'))).toContain('index.json');
  });
});
