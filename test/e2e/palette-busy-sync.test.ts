import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { paletteLabWithHello } from '../support/published.js';
import { registryAdmin } from '../support/registry-admin.js';
import { setup } from '../support/stage.js';

/*
 * A sync already running when packpub asks for one (Palette's daily sync, another pipeline's): what Palette does
 * then is undocumented (palette-api.md 5). Answered 409, push --palette-sync ended with exit 1 after publishing
 * ("Palette could not sync registry ... (409 SyncInProgress)"). Answered 202 but not acted on, the run waited for
 * a sync started after its request that never came, and ended 3 at --palette-timeout, the pack never indexed: the
 * sync that ran had started before the push. Now, once the running sync ends with none started after the request,
 * packpub asks again, and confirms the packs from that sync.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup((stack) => paletteLabWithHello(stack, 'packpub-palette-busy-', KEY, clock, { shared: true }));
const fast = ['--palette-poll-interval', '0.02', '--palette-timeout', '60'];

/** A sync of the lab's registry started by someone else, before the packs are pushed: it never sees them. */
async function syncRunningElsewhere(): Promise<void> {
  const res = await fetch(`${w.palette.url}/v1/registries/oci/${w.uid}/basic/sync`, { method: 'POST', headers: { apikey: KEY } });
  expect(res.status).toBe(202);
}

describe('a sync already running when packpub asks for one', () => {
  it('not acted on (202): asked again once it ends; the pack is confirmed, exit 0 (was: exit 3 at --palette-timeout)', async () => {
    w.palette.busySyncs = 'ignore';
    try {
      await syncRunningElsewhere();
      const pushed = await runCli(['push', w.pack, ...w.at], { env: w.env });
      expect(pushed.code, pushed.stderr).toBe(0);
      const run = await runCli(['palette', 'sync', 'hello:1.0.0', ...w.at, ...fast], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stderr).toContain('palette: sync asked for again: the sync running when it was asked for ended, and none started after it');
      expect(run.stdout).toMatch(/visible in Palette hello:1\.0\.0 \(packUid [0-9a-f]{24}\)/);
    } finally {
      w.palette.busySyncs = 'restart';
    }
    expect(w.packRegistry()?.syncRequests.map((r) => r.busy ?? 'started')).toEqual(['started', 'ignore', 'started']);
    expect(w.packRegistry()?.index.get('hello')?.has('1.0.0')).toBe(true);
  });

  it('refused (409): push --palette-sync waits for it to end and asks again: exit 0 (was: exit 1 after publishing)', async () => {
    const pack = await writePack(join(w.root, 'hello-2'), { name: 'hello', version: '2.0.0' });
    const asked = w.packRegistry()?.syncRequests.length ?? 0;
    w.palette.busySyncs = 409;
    try {
      await syncRunningElsewhere();
      const run = await runCli(['push', pack, ...w.at, '--palette-sync', ...fast], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stderr).toContain('palette: Palette did not start a sync of lab (409: registry lab sync is already in progress); asking again once the sync running ends');
      expect(run.stdout).toMatch(/visible in Palette hello:2\.0\.0 \(packUid [0-9a-f]{24}\)/);
    } finally {
      w.palette.busySyncs = 'restart';
    }
    expect(w.packRegistry()?.syncRequests.slice(asked).map((r) => r.busy ?? 'started')).toEqual(['started', 409, 'started']);
    expect(w.packRegistry()?.index.get('hello')?.has('2.0.0')).toBe(true);
  });

  it('refused with 400 or 423 while the sync status shows one running: waited for and asked again, exit 0 (was: exit 1 after publishing, "Palette could not sync registry")', async () => {
    for (const [status, version] of [[400, '3.0.0'], [423, '3.1.0']] as const) {
      const pack = await writePack(join(w.root, `hello-${version}`), { name: 'hello', version });
      const asked = w.packRegistry()?.syncRequests.length ?? 0;
      w.palette.busySyncs = status;
      try {
        await syncRunningElsewhere();
        const run = await runCli(['push', pack, ...w.at, '--palette-sync', ...fast], { env: w.env });
        expect(run.code, run.stdout + run.stderr).toBe(0);
        expect(run.stderr).toContain(`palette: Palette did not start a sync of lab (${status}: registry lab sync is already in progress); asking again once the sync running ends`);
        expect(run.stdout).toMatch(new RegExp(`visible in Palette hello:${version.replace(/\./g, '\\.')} \\(packUid [0-9a-f]{24}\\)`));
      } finally {
        w.palette.busySyncs = 'restart';
      }
      expect(w.packRegistry()?.syncRequests.slice(asked).map((r) => r.busy ?? 'started')).toEqual(['started', status, 'started']);
      expect(w.packRegistry()?.index.get('hello')?.has(version)).toBe(true);
    }
  });

  it('refused with 400 while no sync runs: exit 1 at once with Palette\'s words, as before (not waited on)', async () => {
    // Palette's v1Error, or a body that is not JSON (its text said as it came).
    for (const [version, text, said] of [['3.2.0', undefined, '(400 BadRequest): injected 400'], ['3.3.0', 'sync refused', '(400): sync refused']] as const) {
      const pack = await writePack(join(w.root, `hello-${version}`), { name: 'hello', version });
      const asked = w.packRegistry()?.syncRequests.length ?? 0;
      w.palette.fault = { method: 'POST', path: /\/sync$/, status: 400, ...(text === undefined ? {} : { text }) };
      try {
        const run = await runCli(['push', pack, ...w.at, '--palette-sync', ...fast], { env: w.env });
        expect(run.code, run.stdout + run.stderr).toBe(1);
        expect(run.stderr).toContain(`Palette could not sync registry ${w.uid} ${said}\n`);
        expect(run.stderr).not.toContain('asking again once the sync running ends');
      } finally {
        w.palette.fault = undefined;
      }
      // Published, never synced: the one request was refused.
      expect(w.palette.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/sync')).at(-1)?.status).toBe(400);
      expect(w.packRegistry()?.syncRequests.length).toBe(asked);
      expect(w.packRegistry()?.index.get('hello')?.has(version) ?? false).toBe(false);
      expect((await runCli(['list', ...w.at, 'hello', '--json'], { env: w.env })).stdout).toContain(version);
    }
  });

  it('refused (409) for ever: exit 3 at --palette-timeout, saying Palette refused to start one', async () => {
    w.palette.busySyncs = 409;
    w.palette.hangSyncs = true;
    try {
      await syncRunningElsewhere();
      const run = await runCli(['palette', 'sync', 'hello:1.0.0', ...w.at, '--palette-poll-interval', '0.25', '--palette-timeout', '5'], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(3);
      expect(run.stdout).toMatch(/NOT VISIBLE in Palette hello:1\.0\.0: timed out after \d+ s waiting for Palette's sync of lab \(last status InProgress\); Palette refused to start one \(409: registry lab sync is already in progress\)/);
    } finally {
      w.palette.busySyncs = 'restart';
      w.palette.hangSyncs = false;
    }
  });
});

/*
 * A version replaced (push --force) while a plain sync started before the push runs, on a Palette whose running status
 * shows the run before's time and which lets the running sync finish on a forced request (its UI's Force sync restarts
 * only one running for an hour): that run's Success, its run time newer than the one read before the request, was
 * taken for the forced sync. The run ended 0, "visible", while Palette kept the replaced digest. Now a run that started
 * before the request by Palette's own clock (the Date of its status answer) is that one: packpub asks again.
 */
describe('a forced sync asked for while a plain one runs, its status showing the run before', () => {
  it("the running one's end is not taken for it: asked again, Palette holds the digest published, exit 0 (was: exit 0, the replaced digest kept)", async () => {
    const admin = registryAdmin(w.registry);
    const repo = `${w.under('packs')}/spectro-packs/archive/replaced`;
    const first = await runCli(['push', await writePack(join(w.root, 'replaced-1'), { name: 'replaced', version: '1.0.0', files: { 'a.txt': 'first' } }), ...w.at, '--palette-sync', ...fast], { env: w.env });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const old = await admin.digestOf(repo, '1.0.0');
    expect(w.packRegistry()?.index.get('replaced')?.get('1.0.0')?.digest).toBe(old);
    const asked = w.packRegistry()?.syncRequests.length ?? 0;
    w.palette.busySyncs = 'ignore';
    w.palette.runningShowsLastRun = true;
    try {
      await syncRunningElsewhere();
      // Palette's clock (and its Date headers, told to the second) a second on: the run going on started in an earlier second.
      await clock.sleep(1_000);
      const second = await writePack(join(w.root, 'replaced-2'), { name: 'replaced', version: '1.0.0', files: { 'a.txt': 'second' } });
      const run = await runCli(['push', second, ...w.at, '--force', '--palette-sync', ...fast], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain('overwritten replaced:1.0.0 -> ');
      expect(run.stderr).toContain('palette: sync asked for again with forceSync (a version was replaced): the sync running when it was asked for ended, and none started after it');
      expect(run.stdout).toMatch(/visible in Palette replaced:1\.0\.0 \(packUid [0-9a-f]{24}\)/);
    } finally {
      w.palette.busySyncs = 'restart';
      w.palette.runningShowsLastRun = false;
    }
    const now = await admin.digestOf(repo, '1.0.0');
    expect(now).not.toBe(old);
    // Palette holds the artifact published now: the forced sync asked for again read it.
    expect(w.packRegistry()?.index.get('replaced')?.get('1.0.0')?.digest).toBe(now);
    expect(w.packRegistry()?.syncRequests.slice(asked).map((r) => `${r.force ? 'forced' : 'plain'} ${r.busy ?? 'started'}`)).toEqual(['plain started', 'forced ignore', 'forced started']);
  });
});

/*
 * The 4.8 spec lists no sync status values; packpub reads Terraform's provider's words and waits on any other as
 * pending. A Palette ending its syncs with another word ("PartiallySucceeded") made the run end 3 at
 * --palette-timeout saying only that the sync did not finish.
 */
describe('a sync status word packpub does not know', () => {
  it('is waited on until --palette-timeout, and the reason says packpub does not know it: exit 3', async () => {
    expect((await runCli(['push', w.pack, ...w.at], { env: w.env })).code).toBe(0);
    w.palette.statusWord = (status) => (status === 'Success' ? 'PartiallySucceeded' : status);
    try {
      const run = await runCli(['palette', 'sync', 'hello:1.0.0', ...w.at, '--palette-poll-interval', '0.25', '--palette-timeout', '5'], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(3);
      expect(run.stderr).toContain('palette: sync status PartiallySucceeded');
      expect(run.stdout).toMatch(
        /NOT VISIBLE in Palette hello:1\.0\.0: timed out after \d+ s waiting for Palette's sync of lab \(last status PartiallySucceeded\); packpub does not know status "PartiallySucceeded" as done or failed \(it knows Success, Completed, Failed, Error, as Terraform's provider\), so it waited on it/,
      );
    } finally {
      w.palette.statusWord = undefined;
    }
    // Palette itself ended the sync (the stand-in's own record says Success).
    expect(w.packRegistry()?.sync.status).toBe('Success');
  });
});

/*
 * A sync asked for (202) that never starts, its status showing the run before the request until --palette-timeout: the
 * reason said "last status Success" alone, leaving a reader to wonder why a successful sync timed out. A sync that
 * started and did not finish said nothing of what goes on after the run.
 */
describe('a sync that does not finish within --palette-timeout', () => {
  it('never started: exit 3, the reason says Palette showed no sync started after the request (was: "last status Success" alone)', async () => {
    w.palette.syncsNeverStart = true;
    try {
      const run = await runCli(['palette', 'sync', 'hello:1.0.0', ...w.at, '--palette-poll-interval', '5', '--palette-timeout', '60', '--json'], { env: w.env });
      expect(run.code, run.stderr).toBe(3);
      const out = JSON.parse(run.stdout) as { targets: { sync: { outcome: string; lastRunTime?: string }; packs: { reason: string }[] }[] };
      expect(out.targets[0]?.sync.outcome).toBe('timeout');
      const before = out.targets[0]?.sync.lastRunTime ?? '';
      expect(before).not.toBe('');
      expect(out.targets[0]?.packs[0]?.reason).toMatch(
        new RegExp(`^timed out after \\d+ s waiting for Palette's sync of lab \\(last status Success\\); Palette showed no sync started after it was asked for one: its status still shows the run before \\(${before.replace(/[.]/g, '\\.')}\\)$`),
      );
    } finally {
      w.palette.syncsNeverStart = false;
    }
  });

  it('started and still running: exit 3, the reason says how to confirm the packs later', async () => {
    w.palette.hangSyncs = true;
    try {
      const run = await runCli(['palette', 'sync', 'hello:1.0.0', ...w.at, '--palette-poll-interval', '5', '--palette-timeout', '60'], { env: w.env });
      expect(run.code, run.stderr).toBe(3);
      expect(run.stdout).toMatch(
        /^NOT VISIBLE in Palette hello:1\.0\.0: timed out after \d+ s waiting for Palette's sync of lab \(last status InProgress\); Palette goes on with what it started: packpub palette sync confirms the packs later, or raise --palette-timeout$/m,
      );
    } finally {
      w.palette.hangSyncs = false;
    }
  });
});

/*
 * A pack read (g) of a pack Palette lists no version of yet, answered 200 with no body or `null` (the answer for an
 * unknown pack is undocumented): Palette's Go SDK reads either as an entity with no tags, which its Terraform provider
 * takes for "no pack found". packpub ended the run there, exit 1, "unexpected shape: the body is empty", after publishing.
 */
describe('a pack read answered 200 with no body or null before the pack is listed', () => {
  it('is read as not listed yet: the sync runs and the pack is confirmed, exit 0 (was: exit 1 after publishing)', async () => {
    for (const [answer, name] of [['empty', 'hello-empty'], ['null', 'hello-null']] as const) {
      const pack = await writePack(join(w.root, name), { name, version: '1.0.0' });
      const from = w.palette.requests.length;
      w.palette.unknownPackAnswer = answer;
      try {
        const run = await runCli(['push', pack, ...w.at, '--palette-sync', ...fast], { env: w.env });
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const packUid = w.packRegistry()?.index.get(name)?.get('1.0.0')?.packUid;
        expect(packUid).toMatch(/^[0-9a-f]{24}$/);
        expect(run.stdout).toContain(`visible in Palette ${name}:1.0.0 (packUid ${packUid})\n`);
      } finally {
        w.palette.unknownPackAnswer = 404;
      }
      // Read before the sync (answered 200 with nothing), then after it (listed).
      expect(w.palette.requests.slice(from).filter((r) => r.path.startsWith(`/v1/packs/${name}/`)).map((r) => r.status)).toEqual([200, 200]);
    }
  });
});
