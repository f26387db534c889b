import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { helloPackAndEnv } from '../support/published.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * A reference naming a version and a digest (`hello:1.0.0@sha256:...`, as crane and Renovate pin images) was refused
 * as `pack name "hello:1.0.0" has an invalid path component`, and copy refused `hello@sha256:...` as `pack name
 * "hello@sha256" has an invalid path component`: neither says what to write. Now each says which forms it takes.
 */

const w = setup(async (stack) => {
  const hello = await helloPackAndEnv(stack);
  const layout = join(hello.root, 'layout');
  const push = await runCli(['push', hello.pack, '--oci-layout', layout, '--json'], { env: hello.env });
  expect(push.code, push.stderr).toBe(0);
  const digest = (JSON.parse(push.stdout) as { results: Array<{ digest: string }> }).results[0]!.digest;
  return { ...hello, layout, digest };
});

describe('a pack reference with a version and a digest', () => {
  it('inspect, pull, tag and delete: exit 2, both forms in the hint, nothing written', async () => {
    const both = `hello:1.0.0@${w.digest}`;
    const out = join(w.root, 'pulled');
    for (const argv of [['inspect', both], ['pull', both, '-o', out], ['tag', both, 'stable'], ['delete', both, '--force']]) {
      expectRun(await runCli([...argv, '--oci-layout', w.layout], { env: w.env }), {
        code: 2,
        stdout: '',
        stderr: [`"${both}" names both a version (1.0.0) and a digest: packpub takes one of them`, `hint: write hello@${w.digest} for that content, or hello:1.0.0 for what the version holds now`],
      });
    }
    expect(existsSync(out)).toBe(false);
    expect([...(await layoutHoldings(w.layout)).tags.keys()]).toEqual(['spectro-packs/archive/hello:1.0.0']);
    // Either form alone, as before.
    expectRun(await runCli(['inspect', `hello@${w.digest}`, '--oci-layout', w.layout], { env: w.env }), { code: 0, stdout: [w.digest] });
  });

  it('copy of a digest: exit 2, copy takes <name>:<version>', async () => {
    for (const ref of [`hello@${w.digest}`, `hello:1.0.0@${w.digest}`]) {
      expectRun(await runCli(['copy', ref, '--from', `oci:${w.layout}`, '--to', `oci:${join(w.root, 'copied')}`], { env: w.env }), {
        code: 2,
        stderr: [`"${ref}" names a digest: copy takes <name>:<version>, the tag it writes at the destination`],
      });
    }
    expect(existsSync(join(w.root, 'copied'))).toBe(false);
  });
});
