import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli, waitFor, type CliRun, type SpawnedCli } from '../support/cli.js';
import { expectReportValid } from '../support/report-schema.js';
import { packTree, sharedProxiedRegistry } from '../support/push-setup.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { silentServer } from '../support/published.js';
import { startPaletteStandin } from '../support/palette-standin.js';

/*
 * review4 (s23): a push abandoned after an interrupt (a second signal, or the 5 s grace period over; a cancelled
 * CI job) exited 130 with no JUnit file and no job summary: the CI user saw no report at all. Now both are
 * written, saying "interrupted" (never a success): what finished as it finished, a pack abandoned in flight as
 * not published (or perhaps published when its tag was being written), a pack never started as not started.
 */

interface Case {
  name: string;
  passed: boolean;
  message?: string;
}

/** A hold for start(): every upload once a tag was sent (a put by digest is not a tag). */
function uploadsAfterFirstTag(): (path: string, kind: string) => boolean {
  let tagged = false;
  return (path, kind) => {
    if (kind === 'manifest-put' && !path.includes('/manifests/sha256:')) tagged = true;
    return kind === 'upload-put' && tagged;
  };
}

/**
 * A person stopping at once: `signal`, and once packpub said it starts no new work, the second one, sent again and
 * again until heeded (one within 0.5 s of the first is read as the same signal delivered twice, as npm run or
 * Jenkins' abort deliver it, and ignored). The run ends 130, with no stack trace.
 */
async function abandon(run: SpawnedCli, signal: NodeJS.Signals): Promise<CliRun> {
  run.child.kill(signal);
  await waitFor(() => run.stderr().includes(`${signal}: starting no new work`), 'the first signal to be seen');
  await waitFor(() => (run.child.kill(signal), run.stderr().includes(`${signal} again`)), `a later ${signal} to be heeded`);
  const result = await run.done;
  expect(result.code, result.stderr).toBe(130);
  expect(stackLines(result.stderr)).toEqual([]);
  return result;
}

function cases(xml: string): Case[] {
  return [...xml.matchAll(/<testcase name="([^"]*)" classname="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)]
    .filter((m) => m[2] !== 'interrupted')
    .map((m) => {
      const failure = /<failure message="([^"]*)"/.exec(m[3] ?? '');
      return { name: m[1] ?? '', passed: failure === null, ...(failure === null ? {} : { message: failure[1] }) };
    });
}

describe('push abandoned after an interrupt', () => {
  const w = setup(async (stack) => ({ reg: await sharedProxiedRegistry(stack), work: await packTree(stack, 4, { seed: 23, prefix: 'abandon' }) }));

  const start = async (base: string, hold: (path: string, kind: string) => boolean, concurrency = 2, extra: string[] = []) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holding: string[] = [];
    w.reg.proxy.onRequest = (req) => {
      if (!req.path.includes(`/${base}/`) || !hold(req.path, req.kind)) return 'pass';
      holding.push(req.path);
      return { holdAnswer: held };
    };
    const junit = join(w.work.root, `${base}.xml`);
    const summary = join(w.work.root, `${base}.md`);
    await writeFile(summary, '');
    const run = spawnCli(['push', w.work.tree, '--recursive', '--registry', `${w.reg.proxy.host}/${w.reg.registry.base}/${base}`, '--concurrency', String(concurrency), '--junit', junit, ...extra], {
      env: { ...w.work.env, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.work.root },
    });
    return { run, junit, summary, holding, release };
  };

  it('on a second SIGINT: exit 130, and the JUnit report and job summary say interrupted, each pack as the registry holds it', async () => {
    // One pack at a time; once a tag is sent (the first pack's tag), every upload is held: one pack is
    // published, the next is in flight, the others are not started.
    const s = await start('uploads', uploadsAfterFirstTag(), 1);
    try {
      await waitFor(() => s.run.stdout().includes('published ') && s.holding.length > 0, 'a pack published and the next one held');
      const first = w.work.packs.find((p) => s.run.stdout().includes(`published ${p.name}:${p.version} `))!;
      const result = await abandon(s.run, 'SIGINT');
      // Even abandoned, the run says what was and was not published (issue 13 item 18), each on a line of its own.
      expect(result.stderr).toContain('SIGINT again: abandoning requests in flight; no tag was written for unfinished packs');
      expect(result.stderr).toMatch(/^interrupted: 1 of 4 finished \(1 published\)$/m);
      expect(result.stderr).toMatch(/^not published: abandoned in flight: abandon-\S+:\S+; 2 not started \(no tag was written for them; run again to finish\)$/m);

      const holdings = await w.reg.reader.holdings(`${w.reg.registry.base}/uploads`);
      expect(holdings.problems).toEqual([]);
      expect([...holdings.tags.keys()].map((t) => t.replace(/^.*\/archive\//, ''))).toEqual([`${first.name}:${first.version}`]);

      const xml = await readFile(s.junit, 'utf8');
      // One case per pack: the published one passes, every other fails, as not published.
      const all = cases(xml);
      expect(all.map((c) => c.name).sort()).toEqual(w.work.packs.map((p) => `${p.name}:${p.version}`).sort());
      expect(all.filter((c) => c.passed).map((c) => c.name)).toEqual([`${first.name}:${first.version}`]);
      for (const c of all.filter((x) => !x.passed)) expect(c.message).toMatch(/^failed: (abandoned in flight: not published \(no tag was written\)|not started: the run was stopped)$/);
      expect(all.filter((c) => c.message?.includes('abandoned in flight'))).toHaveLength(1);
      // Never a success: the interruption is an error case of its own.
      expect(xml).toMatch(/<testsuites name="packpub push" tests="5" failures="3" errors="1"/);
      expect(xml).toContain('<error message="interrupted: SIGINT again: abandoning requests in flight; no tag was written for unfinished packs" type="INTERRUPTED">');

      const md = await readFile(s.summary, 'utf8');
      expect(md.split('\n')[0]).toBe('### packpub push: interrupted');
      expect(md).toContain('- SIGINT again: abandoning requests in flight; no tag was written for unfinished packs');
      expect(md).toMatch(/^- interrupted: 1 of 4 finished \(1 published\)$/m);
      expect(md).toMatch(new RegExp(`^\\| ${first.name} \\| ${first.version.replace(/\./g, '\\.')} \\| .* \\| published \\|`, 'm'));
      expect(md.match(/^\| abandon.* \| failed \|/gm)).toHaveLength(3);
      // The annotations: one error per pack not published, at its pack.json.
      expect(result.stderr.match(/^::error file=[^,]*pack.json,title=packpub failed::failed /gm)).toHaveLength(3);
    } finally {
      s.release();
      w.reg.proxy.onRequest = undefined;
      s.run.child.kill('SIGKILL');
    }
  });

  it('stopped in time (one signal, the pack in flight finishes): the summary says interrupted (was: "failed"), JUnit has the interrupted error', async () => {
    const s = await start('intime', uploadsAfterFirstTag(), 1);
    try {
      await waitFor(() => s.run.stdout().includes('published ') && s.holding.length > 0, 'a pack published and the next one held');
      s.run.child.kill('SIGTERM');
      await waitFor(() => s.run.stderr().includes('SIGTERM: starting no new work'), 'the signal to be seen');
      s.release();
      const result = await s.run.done;
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).not.toContain('abandoning');
      // What it says: each pack not started, on a line of its own, and the totals.
      expect(result.stderr).toContain('SIGTERM: starting no new work; what is in flight may finish');
      const notStarted = w.work.packs.filter((p) => result.stderr.includes(`FAILED ${p.name}:${p.version}: not started: the run was stopped`));
      expect(notStarted).toHaveLength(2);
      expect(result.stdout).toContain(`4 pack(s) to registry ${w.reg.proxy.host}/${w.reg.registry.base}/intime: 2 published, 2 failed`);
      const holdings = await w.reg.reader.holdings(`${w.reg.registry.base}/intime`);
      const all = cases(await readFile(s.junit, 'utf8'));
      // What finished passes (the registry holds exactly those, whole), what never started fails.
      expect(holdings.problems).toEqual([]);
      expect([...holdings.tags.keys()].map((t) => t.replace(/^.*\/archive\//, '')).sort()).toEqual(all.filter((c) => c.passed).map((c) => c.name).sort());
      expect(holdings.tags.size).toBe(2);
      for (const c of all.filter((x) => !x.passed)) expect(c.message).toBe('failed: not started: the run was stopped');
      expect(await readFile(s.junit, 'utf8')).toContain('<error message="interrupted: interrupted by SIGINT, SIGTERM or SIGHUP: the packs in flight finished, the others were not started; run again to finish" type="INTERRUPTED">');
      expect((await readFile(s.summary, 'utf8')).split('\n')[0]).toBe('### packpub push: interrupted');
    } finally {
      s.release();
      w.reg.proxy.onRequest = undefined;
      s.run.child.kill('SIGKILL');
    }
  });

  it('abandoned while a tag is written: the report says "perhaps published", and the registry does hold it', async () => {
    const first = w.work.packs[0]!;
    // (manifests are put to the pack's own repository; blobs go to a shared one)
    // The first pack's manifest reaches the registry, which writes the tag; its answer is held.
    const s = await start('tagging', (path, kind) => kind === 'manifest-put' && path.includes(`/archive/${first.name}/`), 2, ['--json']);
    const tagged = async () => [...(await w.reg.reader.tagDigests(`${w.reg.registry.base}/tagging`)).keys()].map((t) => t.replace(/^.*\/archive\//, ''));
    try {
      await waitFor(() => s.holding.length > 0, 'the manifest to be held');
      // The registry wrote the tag (the proxy saw the PUT come: its body may still be on its way); packpub waits for the answer.
      await waitFor(async () => (await tagged()).includes(`${first.name}:${first.version}`), 'the registry to hold the tag');
      const result = await abandon(s.run, 'SIGTERM');
      // Never that no tag was written for that pack: the registry has its manifest and writes the tag.
      expect(result.stderr).toContain('SIGTERM again: abandoning requests in flight; no tag was written for unfinished packs except perhaps those below');
      expect(result.stderr).toContain(`perhaps published: ${first.name}:${first.version} (abandoned while writing the tag`);
      expect(result.stderr).not.toContain(`abandoned in flight: ${first.name}`);
      const holdings = await w.reg.reader.holdings(`${w.reg.registry.base}/tagging`);
      expect(holdings.problems).toEqual([]);
      expect([...holdings.tags.keys()].some((t) => t.endsWith(`/archive/${first.name}:${first.version}`))).toBe(true);
      const c = cases(await readFile(s.junit, 'utf8')).find((x) => x.name === `${first.name}:${first.version}`);
      expect(c).toEqual({ name: `${first.name}:${first.version}`, passed: false, message: 'failed: abandoned while writing its tag: perhaps published' });
      const md = await readFile(s.summary, 'utf8');
      expect(md.split('\n')[0]).toBe('### packpub push: interrupted');
      expect(md).toContain(`perhaps published: ${first.name}:${first.version}`);
      // --json: the report is printed too (it was empty), never ok.
      const report = JSON.parse(result.stdout) as { ok: boolean; aborted: boolean; results: Array<{ name?: string; version?: string; status: string; error?: { code: string; message: string } }> };
      expect(report).toMatchObject({ ok: false, aborted: true });
      expectReportValid(report);
      expect(report.results).toHaveLength(w.work.packs.length);
      expect(report.results.find((r) => r.name === first.name)).toMatchObject({ status: 'failed', error: { code: 'ABORTED', message: 'abandoned while writing its tag: perhaps published' } });
      // The registry holds that tag and those of the packs reported published; beside them at most the tags of packs
      // reported perhaps published (the second pack in flight may be writing its own tag at the second signal: on a
      // loaded machine it was, and the registry wrote it), never one of a pack reported not published.
      const published = report.results.filter((r) => r.status === 'published').map((r) => `${r.name}:${r.version}`);
      const perhaps = report.results.filter((r) => r.error?.message.endsWith('perhaps published') === true).map((r) => `${r.name}:${r.version}`);
      const held = await tagged();
      expect(held).toEqual(expect.arrayContaining([`${first.name}:${first.version}`, ...published]));
      expect(held.filter((t) => !published.includes(t) && !perhaps.includes(t))).toEqual([]);
    } finally {
      s.release();
      w.reg.proxy.onRequest = undefined;
      s.run.child.kill('SIGKILL');
    }
  });
});

describe('push --palette-sync abandoned while Palette does not answer', () => {
  // A Palette that answers the check before publishing (push's pre-flight), then never ends the sync; and one that
  // takes each request and never answers.
  const w = setup(async (stack) => {
    const reg = await sharedProxiedRegistry(stack);
    const palette = stack.add(await startPaletteStandin({ keys: { 'palab-key': { role: 'tenant-admin' } } }));
    palette.addRegistry('basic', 'palab', { endpoint: `http://${reg.registry.host}`, baseContentPath: `${reg.registry.base}/palab`, providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    palette.hangSyncs = true;
    return { reg, palette, work: await packTree(stack, 1, { seed: 25, prefix: 'palab' }), ...(await silentServer(stack)) };
  });

  it('exit 130; the JSON report, the JUnit report and the job summary say the packs are published and the Palette step interrupted (was: nothing)', async () => {
    const pack = w.work.packs[0]!;
    const junit = join(w.work.root, 'palette.xml');
    const summary = join(w.work.root, 'palette.md');
    await writeFile(summary, '');
    const run = spawnCli(['push', pack.dir, '--registry', `${w.reg.registry.host}/${w.reg.registry.base}/palab`, '--palette-sync', '--palette-poll-interval', '0.05', '--json', '--junit', junit], {
      env: { ...w.work.env, SPECTROCLOUD_HOST: w.palette.url, SPECTROCLOUD_APIKEY: 'palab-key', GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.work.root },
    });
    try {
      await waitFor(() => [...w.palette.registries.values()].some((r) => r.syncRequests.length > 0), 'the Palette step to ask for the sync');
      // One signal: the Palette call in flight is given up at once (a second one is no longer needed to end the run).
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).not.toContain('abandoning requests');
      const report = JSON.parse(result.stdout) as { ok: boolean; results: Array<{ status: string }>; palette: { status: string; error: { code: string; message: string } } };
      expect(report.ok).toBe(false);
      expectReportValid(report);
      expect(report.results.map((r) => r.status)).toEqual(['published']);
      expect(report.palette).toMatchObject({ status: 'error', error: { code: 'ABORTED', message: expect.stringContaining('the packs above are published') as string } });
      const xml = await readFile(junit, 'utf8');
      expect(xml).toMatch(/<testcase name="palab-\S+" classname="registry [^"]*"[^>]*>\n {6}<system-out>published /);
      expect(xml).toContain('<failure message="Palette sync stopped: interrupted while Palette was asked');
      expect(xml).toContain('type="INTERRUPTED"');
      const md = await readFile(summary, 'utf8');
      expect(md.split('\n')[0]).toBe('### packpub push: interrupted');
      expect(md).toMatch(/\| published \|/);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('stopped while Palette is checked, before anything is published (a Palette that never answers): exit 130, nothing published', async () => {
    const pack = w.work.packs[0]!;
    const junit = join(w.work.root, 'early.xml');
    const run = spawnCli(['push', pack.dir, '--registry', `${w.reg.registry.host}/${w.reg.registry.base}/palab-early`, '--palette-sync', '--json', '--junit', junit], {
      env: { ...w.work.env, SPECTROCLOUD_HOST: w.silent.url, SPECTROCLOUD_APIKEY: 'palab-key' },
    });
    try {
      await waitFor(() => w.asked.length > 0, 'the check before publishing to ask Palette');
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toContain('SIGTERM: interrupted before the first pack started; nothing was published\n');
      const report = JSON.parse(result.stdout) as { ok: boolean; aborted: boolean; results: Array<{ status: string; error: { code: string; message: string } }> };
      expectReportValid(report);
      expect(report).toMatchObject({ ok: false, aborted: true });
      expect(report.results.map((r) => [r.status, r.error.code, r.error.message])).toEqual([['failed', 'ABORTED', 'not started: the run was stopped']]);
      expect(await readFile(junit, 'utf8')).toContain('<error message="interrupted: SIGTERM: interrupted before the first pack started; nothing was published" type="INTERRUPTED">');
      expect((await w.reg.reader.tagDigests(`${w.reg.registry.base}/palab-early`)).size).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
