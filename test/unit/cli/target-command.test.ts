import { PassThrough, Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Args, CliContext } from '../../../src/cli/context.js';
import { withPackTarget, withTarget } from '../../../src/cli/target-command.js';
import { PackpubError } from '../../../src/errors.js';
import { OciLayoutStore } from '../../../src/targets/oci-layout.js';
import { tempDir } from '../../support/files.js';

/*
 * The skeleton of the one-target commands (list, inspect, pull, tag, delete): the target the flags or the
 * reference name is opened, handed over, and closed whatever happens; a contradictory reference opens nothing.
 */

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir: root, cleanup } = await tempDir('packpub-target-command-')));
afterAll(async () => cleanup());
afterEach(() => vi.restoreAllMocks());

function context(): CliContext {
  return { io: { stdout: new PassThrough(), stderr: new PassThrough(), stdin: Readable.from([]), env: { HOME: root }, cwd: root }, exitCode: 0 };
}

const args = (extra: Record<string, unknown>): Args => ({ _: [], $0: 'packpub', ...extra }) as Args;

describe('withTarget', () => {
  it('opens the target the flags name, returns what the command returns, and closes the target', async () => {
    const close = vi.spyOn(OciLayoutStore.prototype, 'close');
    const seen: string[] = [];
    const code = await withTarget(args({ ociLayout: `${root}/layout` }), context(), async (target) => {
      seen.push(target.display);
      expect(close).not.toHaveBeenCalled();
      return 7;
    });
    expect(code).toBe(7);
    expect(seen).toEqual([`oci-layout ${root}/layout`]);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('closes the target when the operation throws, and lets the error through to main()', async () => {
    const close = vi.spyOn(OciLayoutStore.prototype, 'close');
    const failure = new PackpubError('NOT_FOUND', 'no such pack');
    await expect(withTarget(args({ ociLayout: `${root}/layout` }), context(), () => Promise.reject(failure))).rejects.toBe(failure);
    expect(close).toHaveBeenCalledTimes(1);
  });
});

describe('withPackTarget', () => {
  it('lets a full oci: reference choose the target and hands over the pack reference', async () => {
    const seen: unknown[] = [];
    await withPackTarget(args({ ref: `oci:${root}/other/spectro-packs/archive/nginx:1.2.3` }), context(), async (target, ref) => {
      seen.push(target.display, ref);
    });
    expect(seen).toEqual([`oci-layout ${root}/other`, { name: 'nginx', version: '1.2.3' }]);
  });

  it('refuses a reference that names another target than the flag, before opening anything', async () => {
    const close = vi.spyOn(OciLayoutStore.prototype, 'close');
    const run = vi.fn(async () => 0);
    const err = await withPackTarget(args({ ref: `oci:${root}/other/spectro-packs/archive/nginx:1.2.3`, ociLayout: `${root}/layout` }), context(), run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackpubError);
    expect((err as PackpubError).code).toBe('USAGE');
    expect((err as PackpubError).message).toContain('names another target');
    expect(run).not.toHaveBeenCalled();
    expect(close).not.toHaveBeenCalled();
  });
});
