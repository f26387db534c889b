import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';

/*
 * review7 (s26): the action ran packpub on Node 20 unless the workflow said otherwise, and the GitLab and Jenkins
 * examples in node:20 images: a release line past its end of life (30 April 2026: no security fixes for the runtime
 * that holds the registry credentials). They now name a supported LTS line that package.json's engines admit
 * (bin/packpub.js refuses the others, exit 2).
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** End of life of the Node.js LTS lines (nodejs.org, "Node.js Releases"; the Release schedule of nodejs/Release). */
const END_OF_LIFE: Readonly<Record<string, string>> = { '20': '2026-04-30', '22': '2027-04-30', '24': '2028-04-30' };

/** The Node line `version` (a major) is one package.json admits and still supported. */
async function expectSupported(version: string): Promise<void> {
  const engines = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  // engines: "^20.18.1 || >=22.3.0": a major of 22 or later, or 20 (setup-node takes the newest release of a line).
  expect(engines).toBe('^20.18.1 || >=22.3.0');
  expect(version).toMatch(/^\d+$/);
  expect(Number(version) === 20 || Number(version) >= 22).toBe(true);
  const end = END_OF_LIFE[version];
  expect(end, `Node ${version} is not an LTS line this test knows`).toBeDefined();
  expect(Date.now(), `Node ${version} reached its end of life on ${end ?? '?'}`).toBeLessThan(Date.parse(`${end ?? '1970-01-01'}T00:00:00Z`));
}

describe('the Node.js the action and the CI examples run packpub on', () => {
  it("action.yml's default node-version: an LTS line package.json admits, not past its end of life", async () => {
    const action = load(await readFile(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
    await expectSupported(action.inputs['node-version']?.default ?? '');
  });

  it.each(['examples/ci/gitlab-ci.yml', 'examples/ci/Jenkinsfile'])('%s: the node image of the job is such a line too', async (file) => {
    const images = [...(await readFile(join(ROOT, file), 'utf8')).matchAll(/\bnode:(\d+)-/g)].map((m) => m[1] ?? '');
    expect(images.length).toBeGreaterThan(0);
    for (const major of images) await expectSupported(major);
  });
});
