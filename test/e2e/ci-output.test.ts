import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedRegistry, type SharedRegistry } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { runChildText } from '../support/spawner.js';

const XSD = fileURLToPath(new URL('../fixtures/junit-jenkins.xsd', import.meta.url));
const USER = 'ci-bot';
const PASSWORD = 'ci-output-Pa55word';

/** xmllint (libxml2-utils, installed by scripts/ensure-test-tools.sh) checks a file against the XSD. */
async function xsdCheck(file: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stderr } = await runChildText('xmllint', ['--noout', '--schema', XSD, file]);
    return { ok: true, output: stderr };
  } catch (err) {
    return { ok: false, output: String((err as { stderr?: string }).stderr ?? err) };
  }
}

describe('output where CI users look', () => {
  let registry: SharedRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  let env: NodeJS.ProcessEnv;
  let reg: string;

  beforeAll(async () => {
    registry = await sharedRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } });
    reg = `${registry.host}/${registry.base}/ci`;
    ({ dir: root, cleanup } = await tempDir());
    env = { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD };
    // packs/bad: invalid; packs/clash: published first, then changed (a conflict); packs/good: new.
    await writePack(join(root, 'packs/bad'), { name: 'bad', version: '1.0.0', packJson: { layer: 'bogus' } });
    await writePack(join(root, 'packs/clash'), { name: 'clash', version: '1.0.0' });
    const first = await runCli(['push', join(root, 'packs/clash'), '--registry', reg], { env });
    expect(first.code).toBe(0);
    await writeFile(join(root, 'packs/clash/README.md'), '# clash\n\nChanged after publishing.\n');
    await writePack(join(root, 'packs/good'), { name: 'good', version: '1.0.0' });
  });
  afterAll(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  it('with GITHUB_ACTIONS=true: annotations, a job summary and a JUnit report that passes the XSD', async () => {
    const summary = join(root, 'summary.md');
    await writeFile(summary, '# earlier step\n');
    const run = await runCli(['push', 'packs', '--recursive', '--registry', reg, '--continue-on-error', '--junit', 'junit.xml'], {
      cwd: root,
      env: { ...env, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: root, GITHUB_STEP_SUMMARY: summary },
    });
    expect(run.code).toBe(1);
    const ref = (name: string) => `${reg}/spectro-packs/archive/${name}:1.0.0`;
    const good = /published good:1\.0\.0 -> \S+ \((sha256:[0-9a-f]{12})/.exec(run.stdout);
    expect(good).not.toBeNull();

    const annotations = run.stderr.split('\n').filter((l) => l.startsWith('::'));
    const conflictLine = annotations.find((l) => l.includes('conflict clash')) ?? '';
    const layers = /published layer (sha256:[0-9a-f]{64}), this build (sha256:[0-9a-f]{64})/.exec(conflictLine);
    expect(layers).not.toBeNull();
    const conflictMessage = `${ref('clash')} already holds different content (published layer ${layers?.[1]}, this build ${layers?.[2]})`;
    const hint =
      'Palette caches pack digests: replacing a published version can break clusters that use it. Publish a new version instead, or pass --force to replace it (--skip-existing to keep it)';
    expect(annotations).toEqual([
      '::error file=packs/bad/pack.json,line=5,col=12,title=packpub pack-json-schema::bad:1.0.0: layer: must be one of kernel, os, k8s, cni, csi, addon (found "bogus")',
      `::error file=packs/clash/pack.json,title=packpub conflict::conflict clash:1.0.0: ${conflictMessage}%0Ahint: ${hint}`,
    ]);

    const report = JSON.parse(await readFile(summary, 'utf8').then((s) => JSON.stringify(s))) as string;
    const goodDigest = /\| good \| 1\.0\.0 \| [^|]+ \| published \| `(sha256:[0-9a-f]{64})`/.exec(report)?.[1] ?? '';
    expect(goodDigest.startsWith(good?.[1] ?? 'x')).toBe(true);
    const target = `registry ${reg}`;
    const sizes = [...report.matchAll(/\| ([0-9.]+ (?:B|KiB)) \|/g)].map((m) => m[1]);
    const uploaded = /uploaded ([0-9.]+ (?:B|KiB))$/m.exec(report)?.[1];
    expect(report).toBe(
      [
        '# earlier step',
        '### packpub push: failed',
        '',
        '| pack | version | target | status | digest | size | reason |',
        '| --- | --- | --- | --- | --- | --- | --- |',
        `| bad | 1.0.0 |  | invalid |  |  | 1 error(s) in validation (pack.json:5: must be one of kernel, os, k8s, cni, csi, addon (found "bogus")) |`,
        `| clash | 1.0.0 | ${target} | conflict |  | ${sizes[0]} | ${conflictMessage} |`,
        `| good | 1.0.0 | ${target} | published | \`${goodDigest}\` | ${sizes[1]} |  |`,
        '',
        `**Totals:** 3 results to ${target}: 1 published, 1 conflict, 1 invalid; uploaded ${uploaded ?? '?'}`,
        '',
        '',
      ].join('\n'),
    );

    // One test case per pack and target, failures with their messages, valid against the Jenkins/Ant XSD.
    const junit = await readFile(join(root, 'junit.xml'), 'utf8');
    expect(junit).toContain(`<testsuite name="${target}" tests="3" failures="2" errors="0" skipped="0"`);
    expect(junit).toContain('<failure message="invalid: 1 error(s) in validation" type="PACK_INVALID">');
    expect(junit).toContain(`<failure message="conflict: ${conflictMessage}" type="CONFLICT">`);
    expect(junit).toMatch(/<testcase name="good:1\.0\.0" classname="[^"]+" time="[0-9.]+">\n\s+<system-out>published /);
    const check = await xsdCheck(join(root, 'junit.xml'));
    expect(check.output).toContain('validates');
    expect(check.ok).toBe(true);
  });

  it('the XSD check fails for a report that breaks the schema (so the check above can fail)', async () => {
    const broken = join(root, 'broken.xml');
    await writeFile(broken, '<testsuites><testsuite name="x" tests="1"><testcase/></testsuite></testsuites>\n');
    const check = await xsdCheck(broken);
    expect(check.ok).toBe(false);
    expect(check.output).toContain("attribute 'failures' is required");
  });

  it('with --json: stdout is only the report, stderr one line per failure; the gate is one line', async () => {
    const run = await runCli(['push', 'packs', '--recursive', '--registry', reg, '--json'], { cwd: root, env });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { summary: { invalid: number; failed: number } };
    expect(report.summary).toMatchObject({ invalid: 1, failed: 2 });
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      `INVALID bad:1.0.0: 1 error(s) in validation: pack.json:5:12 layer: must be one of kernel, os, k8s, cni, csi, addon (found "bogus") (hint: run: packpub validate ${join(root, 'packs/bad')})`,
      '2 valid packs not pushed because 1 is invalid; pass --continue-on-error to push them',
    ]);
  });

  it('a target-wide error is printed once with the number of packs it stopped', async () => {
    const many: string[] = [];
    for (let i = 0; i < 8; i++) many.push(await writePack(join(root, `many/p${i}`), { name: `many-${i}`, version: '1.0.0' }));
    const wrong = { ...env, PACKPUB_PASSWORD: 'not-the-password' };
    const human = await runCli(['push', ...many, '--registry', reg], { env: wrong });
    expect(human.code).toBe(1);
    const lines = human.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^FAILED registry ${reg.replace(/\./g, '\\.')}: credentials rejected .* \\(stopped 8 packs: many-0:1\\.0\\.0, many-1:1\\.0\\.0, many-2:1\\.0\\.0 and 5 more\\)$`));
    expect(lines[1]).toMatch(/^ {2}hint: /);
    expect(human.stdout).toMatch(/8 pack\(s\) to registry .*: 8 failed/);
    expect(human.stderr).not.toContain('not-the-password');

    const json = await runCli(['push', ...many, '--registry', reg, '--json-lines'], { env: wrong });
    expect(json.code).toBe(1);
    expect(json.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(json.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type)).toEqual([...many.map(() => 'result'), 'summary']);
  });

  it('on a terminal the status line shows from the first moment: finding packs, probing the registry, validating', async () => {
    const run = await runCli(['push', join(root, 'packs/good'), '--registry', reg], { env: { ...env, TERM: 'xterm' }, tty: true });
    expect(run.code).toBe(0);
    const frames = run.stderr.split('\r\u001b[K').filter((f) => f !== '');
    expect(frames.slice(0, 4)).toEqual(['starting', 'finding packs', `probing ${reg}`, '[0/1] validating 1 pack']);
    expect(frames).toContain('[0/1] validating 1/1 packs');
    expect(frames).toContain('[0/1] building good:1.0.0');
  });
});
