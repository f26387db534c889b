import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { publishedLayout } from '../support/published.js';
import { setup } from '../support/stage.js';

/*
 * An OCI layout tag whose manifest entry names a blob of GiBs (a layer tagged by mistake, a damaged index): the layout
 * read it whole as a manifest, and `list` of the whole layout failed, "File size (3221225472) is greater than 2 GiB:
 * a bug in packpub" (smaller ones were read into memory whole). Now refused past 4 MiB as a registry's manifest answer
 * is: `list` shows the tag as no pack, inspect and pull name the limit.
 */

const w = setup(async (stack) => {
  const { root, layout } = await publishedLayout(stack, 'packpub-layout-oversized-');
  const repo = join(layout, 'spectro-packs', 'archive', 'hello');
  const hex = 'ab'.repeat(32);
  // Sparse: 3 GiB named, nothing stored.
  await writeFile(join(repo, 'blobs', 'sha256', hex), '');
  await truncate(join(repo, 'blobs', 'sha256', hex), 3 * 1024 ** 3);
  const index = JSON.parse(await readFile(join(repo, 'index.json'), 'utf8')) as { manifests: unknown[] };
  index.manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${hex}`, size: 3 * 1024 ** 3, annotations: { 'org.opencontainers.image.ref.name': '9.9.9' } });
  await writeFile(join(repo, 'index.json'), JSON.stringify(index));
  return { root, layout };
});

describe('an OCI layout tag naming a manifest of GiBs', () => {
  it('list shows it as no pack, exit 0; inspect refuses it naming the limit, exit 1 (was: both "greater than 2 GiB", a bug in packpub)', async () => {
    expectRun(await runCli(['list', 'hello', '--oci-layout', w.layout]), {
      code: 0,
      stdout: ['hello  1.0.0', 'hello  9.9.9'],
      stderr: ['note: hello:9.9.9 is not a pack (a manifest larger than 4 MiB)'],
    });
    expectRun(await runCli(['inspect', 'hello:9.9.9', '--oci-layout', w.layout]), {
      code: 1,
      stdout: '',
      stderr: [`error: manifest oci:${join(w.layout, 'spectro-packs', 'archive', 'hello')}:9.9.9 is 3221225472 bytes, more than the 4 MiB limit`],
    });
  });
});
