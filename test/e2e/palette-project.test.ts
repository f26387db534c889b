import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { startPaletteLab } from '../support/palette-lab.js';
import { runCli } from '../support/cli.js';
import { writePack, writePacks } from '../support/packs.js';
import { listedVersions } from '../support/published.js';
import { setup, thenUndo } from '../support/stage.js';

/*
 * A wrong --palette-project: a project uid Palette does not know, or a project that does not show the
 * registry's packs. Registries are tenant-level, so the sync itself works; only the project-scoped pack
 * reads never list the packs. packpub compares them with the same read at tenant scope (and reads Palette's
 * 403). push --palette-sync (and its dry run) asks before publishing, with a pack search of the registry in the
 * project (and at tenant scope when it finds none): found wrong, the run ends there, exit 2, nothing published.
 * When that search cannot tell (Palette lists no pack through the registry yet, or the search shows none), a push
 * finds it as before: after publishing, it still syncs (the registry's packs show in the projects that have it) and
 * ends with exit 3 (published, not visible), each pack's reason naming the project, one poll after the sync (before
 * it, when a version of the pack is already listed), not after --palette-timeout (600 s). palette sync, which changed
 * nothing when the project is found wrong before the sync, ends with a usage error (exit 2). Time is judged on the
 * stand-in's clock (the skipping clock the client waits on) and by request counts.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();

const w = setup(async (stack) => {
  const lab = await startPaletteLab(stack, { prefix: 'packpub-palette-project-', key: KEY, name: 'project-lab', base: 'projbase', clock, shared: true });
  const { root, palette } = lab;
  // p-all shows every registry; p-hidden is a project of the tenant that shows none of them.
  palette.projects = new Map([['p-all', undefined], ['p-hidden', new Set<string>()]]);
  const packs = await writePacks(root, {
    first: 'proj-first:1.0.0', second: 'proj-first:1.1.0', refused: 'proj-refused:1.0.0', later: 'proj-later:1.0.0', fresh: 'proj-fresh:1.0.0', nosuch: 'proj-nosuch:1.0.0',
  });
  return { ...lab, packs };
});

const env = () => ({
  HOME: join(w.root, 'home'),
  DOCKER_CONFIG: join(w.root, 'docker'),
  SOURCE_DATE_EPOCH: '1700000000',
  SPECTROCLOUD_HOST: w.palette.url,
  SPECTROCLOUD_APIKEY: KEY,
});
const at = () => ['--registry', `${w.registry.host}/${w.under('projbase')}`];
const reasonHint = "check the project's uid in Palette (--palette-project, SPECTROCLOUD_DEFAULT_PROJECT_ID or palette.project in packpub.yaml)";
const hint = "hint: check the project's uid in Palette (--palette-project, SPECTROCLOUD_DEFAULT_PROJECT_ID or palette.project in packpub.yaml)";

/** The requests a run made: how many, how many sync triggers and status polls, and the stand-in clock's time from first to last. */
function requestsSince(from: number) {
  const made = w.palette.requests.slice(from);
  return {
    count: made.length,
    triggers: made.filter((r) => r.method === 'POST' && r.path.endsWith('/sync')).length,
    polls: made.filter((r) => r.path.endsWith('/sync/status')).length,
    spanMs: made.length === 0 ? 0 : (made.at(-1)?.at ?? 0) - (made[0]?.at ?? 0),
  };
}

const NOTHING = '; nothing was published (push --palette-sync checks Palette first)';
const WITHOUT = 'or drop --palette-sync to publish without confirming the packs in Palette';
const cannotShow = (project: string, why: string) => `Palette project ${project} (--palette-project) cannot show the packs of registry project-lab: ${why}`;

/**
 * `fn` while the pack search shows no pack (as for a registry Palette lists none through yet, or a default filter
 * hiding them): push's check before publishing cannot tell the project is wrong, and the run goes on as before it.
 */
async function searchShowingNothing<T>(fn: () => Promise<T>): Promise<T> {
  w.palette.searchItemsAnswer = () => [];
  return thenUndo(fn, () => {
    w.palette.searchItemsAnswer = undefined;
  });
}

describe('push --palette-sync / palette sync with a wrong --palette-project', () => {
  it('a project that shows the registry: the packs are confirmed there (exit 0)', async () => {
    const run = await runCli(['push', w.packs.first, ...at(), '--palette-sync', '--palette-project', 'p-all'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('visible in Palette proj-first:1.0.0');
    expect(w.palette.requests.filter((r) => r.prefix === '/v1/packs').every((r) => r.projectUid === 'p-all' || r.projectUid === undefined)).toBe(true);
  });

  it('a project that does not show the registry: push --palette-sync and its dry run end before publishing, exit 2 (was: published, then exit 3)', async () => {
    const from = w.palette.requests.length;
    const junit = join(w.root, 'hidden.xml');
    const message = `error: ${cannotShow('p-hidden', 'Palette lists proj-first through that registry at tenant scope, but not in the project')}${NOTHING}\n`;
    const hintLine = `${hint}, that the key's user belongs to it and that registry project-lab is available there; without a project packpub confirms the packs at tenant scope; ${WITHOUT}\n`;
    // A new version of a pack Palette lists, and a pack new to Palette: the search needs no pack name.
    for (const pack of [w.packs.second, w.packs.fresh]) {
      const run = await runCli(['push', pack, ...at(), '--palette-sync', '--palette-project', 'p-hidden', '--json', '--junit', junit], { env: env() });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain(hintLine);
      const report = await readFile(junit, 'utf8');
      expect(report).toContain('<testsuite name="refused" tests="1" failures="0" errors="1"');
      expect(report).toMatch(/<error message="refused: Palette project p-hidden [^"]*nothing was published \(push --palette-sync checks Palette first\)" type="USAGE">/);
    }
    const dry = await runCli(['push', w.packs.second, ...at(), '--palette-sync', '--palette-project', 'p-hidden', '--dry-run'], { env: env() });
    expect(dry.code, dry.stderr).toBe(2);
    expect(dry.stderr).toContain(message);
    expect(await listedVersions(at(), env())).toEqual(['proj-first:1.0.0']);
    const made = requestsSince(from);
    expect(made.triggers).toBe(0);
    expect(made.polls).toBe(0);
    // Per run: one search in the project, one at tenant scope (the project's found none) naming a pack listed through
    // the registry, which is read in the project and at tenant scope, as the check before a sync reads a pack.
    const asked = w.palette.requests.slice(from).filter((r) => r.prefix === '/v1/packs');
    const read = `/v1/packs/proj-first/registries/${w.uid}`;
    expect(asked.map((r) => `${r.path} ${r.projectUid ?? 'tenant'}`)).toEqual(
      Array.from({ length: 3 }, () => ['/v1/packs/search p-hidden', '/v1/packs/search tenant', `${read} p-hidden`, `${read} tenant`]).flat(),
    );
  });

  it('palette doctor with --palette-project makes push\'s project check: FAIL palette-project, exit 1, for a project that does not show the registry (was: no problems found, exit 0, and push then refused it)', async () => {
    const from = w.palette.requests.length;
    const hidden = await runCli(['palette', 'doctor', ...at(), '--palette-project', 'p-hidden'], { env: env() });
    expect(hidden.code, hidden.stdout + hidden.stderr).toBe(1);
    expect(hidden.stdout).toContain(`  FAIL  palette-project: ${cannotShow('p-hidden', 'Palette lists proj-first through that registry at tenant scope, but not in the project')}\n`);
    expect(hidden.stdout).toContain(`        fix: ${hint.slice('hint: '.length)}`);
    expect(hidden.stdout).toContain('1 problem found');
    const shown = await runCli(['palette', 'doctor', ...at(), '--palette-project', 'p-all', '--json'], { env: env() });
    expect(shown.code, shown.stdout + shown.stderr).toBe(0);
    const report = JSON.parse(shown.stdout) as { findings: { check: string; ok: boolean; message: string }[] };
    expect(report.findings.filter((f) => f.check === 'palette-project')).toEqual([
      { check: 'palette-project', ok: true, message: 'Palette project p-all (--palette-project): nothing found that keeps it from showing the packs of registry project-lab' },
    ]);
    // Without a project, no such check; doctor asks Palette for no sync either way.
    const plain = await runCli(['palette', 'doctor', ...at(), '--json'], { env: env() });
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect((JSON.parse(plain.stdout) as { findings: { check: string }[] }).findings.map((f) => f.check)).not.toContain('palette-project');
    expect(requestsSince(from).triggers).toBe(0);
  });

  it('a project that does not show the registry, the search telling nothing, first version of a pack: exit 3 one poll after the sync, each pack naming the project', async () => {
    const from = w.palette.requests.length;
    const run = await searchShowingNothing(() => runCli(['push', w.packs.fresh, ...at(), '--palette-sync', '--palette-project', 'p-hidden'], { env: env() }));
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toContain(
      'NOT VISIBLE in Palette proj-fresh:1.0.0: Palette project p-hidden (--palette-project) cannot show the packs of registry project-lab: Palette lists proj-fresh:1.0.0 through that registry at tenant scope, but not in the project; ',
    );
    expect(run.stdout).toContain(reasonHint);
    expect(run.stderr).toContain('error: published, but not visible in Palette (exit 3)\n');
    expect(run.stderr).not.toContain('error: Palette project');
    // Published: the registry holds it.
    expect(await listedVersions(at(), env())).toEqual(['proj-first:1.0.0', 'proj-fresh:1.0.0']);
    const made = requestsSince(from);
    expect(made.triggers).toBe(1);
    expect(made.polls).toBeLessThanOrEqual(4);
    // 14, and the project's own read before publishing (Palette knows it).
    expect(made.count).toBeLessThanOrEqual(15);
    expect(made.spanMs).toBeLessThan(60_000);
    // Read in the project, then at tenant scope: before the sync (nothing listed yet), then on two rounds
    // after it (one round of grace, should the project's listing lag the tenant's).
    const reads = w.palette.requests.slice(from).filter((r) => r.path.startsWith('/v1/packs/proj-fresh/'));
    expect(reads.map((r) => r.projectUid ?? 'tenant')).toEqual(['p-hidden', 'tenant', 'p-hidden', 'tenant', 'p-hidden', 'tenant']);
  });

  it('the search telling nothing, push of a new version of a pack the project already fails to show: still synced, exit 3 right after the sync, the JSON report saying why', async () => {
    const from = w.palette.requests.length;
    const run = await searchShowingNothing(() => runCli(['push', w.packs.second, ...at(), '--palette-sync', '--palette-project', 'p-hidden', '--json'], { env: env() }));
    expect(run.code, run.stderr).toBe(3);
    const doc = JSON.parse(run.stdout) as { ok: boolean; results: { status: string }[]; palette: { status: string; targets: { sync: { outcome: string }; packs: { name: string; version: string; status: string; reason?: string }[] }[] } };
    expect(doc.ok).toBe(false);
    expect(doc.results.map((r) => r.status)).toEqual(['published']);
    expect(doc.palette.status).toBe('published-not-visible');
    expect(doc.palette.targets[0]?.sync.outcome).toBe('success');
    expect(doc.palette.targets[0]?.packs).toEqual([
      {
        name: 'proj-first',
        version: '1.1.0',
        status: 'not-visible',
        reason: `Palette project p-hidden (--palette-project) cannot show the packs of registry project-lab: Palette lists proj-first through that registry at tenant scope, but not in the project; ${reasonHint}, that the key's user belongs to it and that registry project-lab is available there`,
      },
    ]);
    expect(await listedVersions(at(), env())).toEqual(['proj-first:1.0.0', 'proj-first:1.1.0', 'proj-fresh:1.0.0']);
    // The sync ran (the tenant now lists 1.1.0), and no pack read was made after it: the check before it had the answer.
    const made = requestsSince(from);
    expect(made.triggers).toBe(1);
    expect(made.spanMs).toBeLessThan(60_000);
    expect(w.palette.requests.slice(from).filter((r) => r.path.startsWith('/v1/packs/proj-first/')).map((r) => r.projectUid ?? 'tenant')).toEqual(['p-hidden', 'tenant']);
    const tenant = await fetch(`${w.palette.url}/v1/packs/proj-first/registries/${w.uid}?cloudType=all&layer=addon`, { headers: { ApiKey: KEY } });
    expect(((await tenant.json()) as { tags: { version: string }[] }).tags.map((t) => t.version)).toContain('1.1.0');
  });

  it('palette sync (and push --dry-run --palette-sync, the search telling nothing) for a pack already listed: exit 2 before any sync is asked of Palette', async () => {
    const runs = [['palette', 'sync', 'proj-first:1.0.0'], ['push', w.packs.first, '--dry-run', '--palette-sync']];
    for (const command of runs) {
      const from = w.palette.requests.length;
      const run = await searchShowingNothing(() => runCli([...command, ...at(), '--palette-project', 'p-hidden'], { env: env() }));
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('error: Palette project p-hidden (--palette-project) cannot show the packs of registry project-lab: Palette lists proj-first through that registry at tenant scope, but not in the project\n');
      expect(run.stdout).not.toContain('Palette proj-first');
      const made = requestsSince(from);
      expect(made.triggers).toBe(0);
      expect(made.polls).toBe(0);
    }
  });

  it('palette sync of a version Palette lists no entry of yet: exit 2 before the sync when the registry\'s pack search tells it (was: after the sync it triggered, exit 3)', async () => {
    const pushed = await runCli(['push', w.packs.later, ...at()], { env: env() });
    expect(pushed.code, pushed.stderr).toBe(0);
    let from = w.palette.requests.length;
    const json = await runCli(['palette', 'sync', 'proj-later:1.0.0', ...at(), '--palette-project', 'p-hidden', '--json'], { env: env() });
    expect(json.code, json.stderr).toBe(2);
    expect(json.stdout).toBe('');
    expect(json.stderr).toContain(`error: ${cannotShow('p-hidden', 'Palette lists proj-first through that registry at tenant scope, but not in the project')}\n`);
    expect(json.stderr).toContain(`${hint}, that the key's user belongs to it and that registry project-lab is available there; without a project packpub confirms the packs at tenant scope\n`);
    let made = requestsSince(from);
    expect(made.triggers).toBe(0);
    expect(made.polls).toBe(0);
    // The first pack read in the project (and at tenant scope), then the registry's search in the project, at tenant
    // scope, and the pack it names read in the project and at tenant scope.
    const read = (name: string) => `/v1/packs/${name}/registries/${w.uid}`;
    expect(w.palette.requests.slice(from).filter((r) => r.prefix === '/v1/packs').map((r) => `${r.path} ${r.projectUid ?? 'tenant'}`)).toEqual([
      `${read('proj-later')} p-hidden`,
      `${read('proj-later')} tenant`,
      '/v1/packs/search p-hidden',
      '/v1/packs/search tenant',
      `${read('proj-first')} p-hidden`,
      `${read('proj-first')} tenant`,
    ]);

    // The search telling nothing (a registry Palette lists no pack through yet): found after the sync, exit 3, as before.
    from = w.palette.requests.length;
    const run = await searchShowingNothing(() => runCli(['palette', 'sync', 'proj-later:1.0.0', ...at(), '--palette-project', 'p-hidden'], { env: env() }));
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toContain('NOT VISIBLE in Palette proj-later:1.0.0: Palette project p-hidden (--palette-project) cannot show the packs of registry project-lab: Palette lists proj-later:1.0.0 through that registry at tenant scope, but not in the project; ');
    expect(run.stderr).toContain('error: published, but not visible in Palette (exit 3)\n');
    made = requestsSince(from);
    expect(made.triggers).toBe(1);
    expect(made.spanMs).toBeLessThan(60_000);
  });

  it('palette sync in a project that shows the pack: no search before the sync (one read of the first pack)', async () => {
    const from = w.palette.requests.length;
    const run = await runCli(['palette', 'sync', 'proj-first:1.0.0', ...at(), '--palette-project', 'p-all'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^visible in Palette proj-first:1\.0\.0 \(packUid [0-9a-f]+\)$/m);
    expect(w.palette.requests.slice(from).filter((r) => r.path === '/v1/packs/search')).toEqual([]);
  });

  it('a project uid Palette does not know, answered 404 or 403: push exits 2 before publishing (was: published, exit 3); palette sync 2 with Palette\'s refusal', async () => {
    let from = w.palette.requests.length;
    const missing = await runCli(['push', w.packs.nosuch, ...at(), '--palette-sync', '--palette-project', 'p-nosuch'], { env: env() });
    expect(missing.code, missing.stderr).toBe(2);
    // Palette's read of the project itself answers 404: said first, whatever its pack calls answer.
    expect(missing.stderr).toContain(`error: ${cannotShow('p-nosuch', 'Palette has no project with that uid (reading project p-nosuch answered 404, and Palette\'s list of projects does not name it)')}${NOTHING}\n`);
    expect(await listedVersions(at(), env())).not.toContain('proj-nosuch:1.0.0');
    expect(requestsSince(from).triggers).toBe(0);
    // A key that may not read projects (403): the pack reads tell it, as before.
    w.palette.projectReadsRefused = true;
    try {
      const byPacks = await runCli(['push', w.packs.nosuch, ...at(), '--palette-sync', '--palette-project', 'p-nosuch'], { env: env() });
      expect(byPacks.code, byPacks.stderr).toBe(2);
      expect(byPacks.stderr).toContain(`error: ${cannotShow('p-nosuch', 'Palette lists proj-first through that registry at tenant scope, but not in the project')}${NOTHING}\n`);
    } finally {
      w.palette.projectReadsRefused = false;
    }
    // Published without a sync, for palette sync below to name.
    const published = await runCli(['push', w.packs.nosuch, ...at()], { env: env() });
    expect(published.code, published.stderr).toBe(0);

    w.palette.unknownProjectStatus = 403;
    // The project read refused too (403): the pack reads Palette refuses tell it.
    w.palette.projectReadsRefused = true;
    try {
      from = w.palette.requests.length;
      const refused = await runCli(['palette', 'sync', 'proj-nosuch:1.0.0', ...at(), '--palette-project', 'p-nosuch'], { env: env() });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(
        'error: Palette project p-nosuch (--palette-project) cannot show the packs of registry project-lab: Palette refused a pack read there (the Palette API key may not read pack proj-nosuch in project p-nosuch (403): User is not authorized to access the resource)\n',
      );
      expect(refused.stderr).toContain(hint);
      expect(requestsSince(from).triggers).toBe(0);

      from = w.palette.requests.length;
      const pushed = await runCli(['push', w.packs.refused, ...at(), '--palette-sync', '--palette-project', 'p-nosuch', '--json'], { env: env() });
      expect(pushed.code, pushed.stderr).toBe(2);
      expect(pushed.stdout).toBe('');
      expect(pushed.stderr).toContain(
        `error: ${cannotShow('p-nosuch', 'Palette refused a pack read there (the Palette API key may not read pack proj-first in project p-nosuch (403): User is not authorized to access the resource)')}${NOTHING}\n`,
      );
      expect(pushed.stderr).toContain(`${hint}, that the key's user belongs to it and that registry project-lab is available there; without a project packpub confirms the packs at tenant scope; ${WITHOUT}\n`);
      expect(await listedVersions(at(), env())).not.toContain('proj-refused:1.0.0');
      expect(requestsSince(from).triggers).toBe(0);
    } finally {
      w.palette.unknownProjectStatus = 404;
      w.palette.projectReadsRefused = false;
    }
    // palette sync of a project Palette does not know: refused before the sync, the project read first (exit 2).
    from = w.palette.requests.length;
    const sync = await runCli(['palette', 'sync', 'proj-nosuch:1.0.0', ...at(), '--palette-project', 'p-nosuch'], { env: env() });
    expect(sync.code, sync.stderr).toBe(2);
    expect(sync.stderr).toContain(`error: ${cannotShow('p-nosuch', 'Palette has no project with that uid (reading project p-nosuch answered 404, and Palette\'s list of projects does not name it)')}\n`);
    expect(requestsSince(from).triggers).toBe(0);
  });

  it('a Palette that answers pack calls of a project it does not know at tenant scope: still refused before publishing, exit 2 (was: exit 0, the packs confirmed)', async () => {
    // Palette lists a pack through the registry (its search in the project, answered at tenant scope, finds it).
    expect((await runCli(['push', w.packs.first, ...at(), '--palette-sync'], { env: env() })).code).toBe(0);
    w.palette.unknownProjectStatus = 'ignore';
    try {
      const pack = await writePack(join(w.root, 'ghost'), { name: 'proj-ghost', version: '1.0.0' });
      const from = w.palette.requests.length;
      const run = await runCli(['push', pack, ...at(), '--palette-sync', '--palette-project', 'p-ghost'], { env: env() });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: ${cannotShow('p-ghost', 'Palette has no project with that uid (reading project p-ghost answered 404, and Palette\'s list of projects does not name it)')}${NOTHING}\n`);
      expect(await listedVersions(at(), env())).not.toContain('proj-ghost:1.0.0');
      expect(requestsSince(from).triggers).toBe(0);
    } finally {
      w.palette.unknownProjectStatus = 404;
    }
  });

  it('a key that may use a project but not read it (a Cluster Profile role: packRegistry permissions, none on projects), its project read answered 404: not refused, published and confirmed, exit 0 (was: exit 2 "Palette has no project with that uid")', async () => {
    const key = `apikey-${Math.random().toString(36).slice(2)}-profiles`;
    w.palette.keys[key] = { role: 'tenant-admin', projects: ['p-all'], readsProjects: false };
    w.palette.projectReadDenial = 404;
    try {
      for (const [version, listRefused] of [['1.0.0', false], ['1.1.0', true]] as const) {
        // Palette's list of the key's projects names it; refused, it tells nothing, and the pack reads decide as before.
        w.palette.projectListRefused = listRefused;
        const pack = await writePack(join(w.root, `unreadable-${version}`), { name: 'proj-unreadable', version });
        const from = w.palette.requests.length;
        const run = await runCli(['push', pack, ...at(), '--palette-sync', '--palette-project', 'p-all'], { env: { ...env(), SPECTROCLOUD_APIKEY: key } });
        expect(run.code, run.stderr).toBe(0);
        const packUid = w.palette.registries.get(w.uid)?.index.get('proj-unreadable')?.get(version)?.packUid;
        expect(packUid).toMatch(/^[0-9a-f]{24}$/);
        expect(run.stdout).toContain(`visible in Palette proj-unreadable:${version} (packUid ${packUid})\n`);
        expect(await listedVersions(at(), env())).toContain(`proj-unreadable:${version}`);
        expect(w.palette.requests.slice(from).filter((r) => r.prefix === '/v1/projects' || r.prefix === '/v1/dashboard').map((r) => `${r.path} ${r.status} ${r.projectUid ?? 'tenant'}`)).toEqual([
          '/v1/projects/p-all 404 tenant',
          `/v1/dashboard/projects/metadata ${listRefused ? 403 : 200} tenant`,
        ]);
        expect(requestsSince(from).triggers).toBe(1);
      }
    } finally {
      delete w.palette.keys[key];
      w.palette.projectReadDenial = 403;
      w.palette.projectListRefused = false;
    }
  });

  it('a project given by its name (Default): refused before publishing, exit 2, the hint saying the flag takes the uid', async () => {
    const pack = await writePack(join(w.root, 'by-name'), { name: 'proj-by-name', version: '1.0.0' });
    const run = await runCli(['push', pack, ...at(), '--palette-sync', '--palette-project', 'Default'], { env: env() });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/^error: Palette project Default \(--palette-project\) cannot show the packs of registry project-lab: .*; nothing was published/m);
    expect(run.stderr).toContain(`hint: "Default" reads as a project's name, and --palette-project takes the project's uid, not its name: ${hint.slice('hint: '.length)}`);
    expect(await listedVersions(at(), env())).not.toContain('proj-by-name:1.0.0');
    // Palette's list of projects names one "Default" (the key's user is in it): the message and hint give its uid.
    const uid = 'a1b2c3d4e5f6a7b8c9d0e1f2';
    w.palette.projects?.set(uid, undefined);
    w.palette.projectNames.set(uid, 'Default');
    try {
      const named = await runCli(['push', pack, ...at(), '--palette-sync', '--palette-project', 'Default'], { env: env() });
      expect(named.code, named.stderr).toBe(2);
      expect(named.stderr).toContain(`error: ${cannotShow('Default', `Palette has no project with that uid (reading project Default answered 404, and Palette's list of projects does not name it; its project named "Default" has uid ${uid})`)}${NOTHING}\n`);
      expect(named.stderr).toContain(`hint: --palette-project takes the project's uid, not its name: pass --palette-project ${uid} (project "Default"); ${hint.slice('hint: '.length)}`);
      expect(await listedVersions(at(), env())).not.toContain('proj-by-name:1.0.0');
      // Two projects so named (ignoring case): both uids, to choose from; seven: five of them, and how many more.
      const twins = ['f2e1d0c9b8a7f6e5d4c3b2a1', 'f2e1d0c9b8a7f6e5d4c3b2a2', 'f2e1d0c9b8a7f6e5d4c3b2a3', 'f2e1d0c9b8a7f6e5d4c3b2a4', 'f2e1d0c9b8a7f6e5d4c3b2a5', 'f2e1d0c9b8a7f6e5d4c3b2a6'];
      try {
        for (const [n, says] of [
          [1, `have uids ${uid}, ${twins[0]})`],
          [6, `have uids ${[uid, ...twins.slice(0, 4)].join(', ')} and 2 more)`],
        ] as const) {
          for (const twin of twins.slice(0, n)) {
            w.palette.projects?.set(twin, undefined);
            w.palette.projectNames.set(twin, 'default');
          }
          const many = await runCli(['push', pack, ...at(), '--palette-sync', '--palette-project', 'Default'], { env: env() });
          expect(many.code, many.stderr).toBe(2);
          expect(many.stderr).toContain(`its projects named "Default" ${says}`);
          expect(many.stderr).toContain(`hint: --palette-project takes the project's uid, not its name, and ${n + 1} projects are named "Default": pass the uid of the one meant (${n === 1 ? `${uid} or ${twins[0]}` : `${[uid, ...twins.slice(0, 4)].join(' or ')} and 2 more`}); `);
        }
        expect(await listedVersions(at(), env())).not.toContain('proj-by-name:1.0.0');
      } finally {
        for (const twin of twins) {
          w.palette.projects?.delete(twin);
          w.palette.projectNames.delete(twin);
        }
      }
      // Given that uid, the same push publishes and confirms the pack there.
      const byUid = await runCli(['push', pack, ...at(), '--palette-sync', '--palette-project', uid], { env: env() });
      expect(byUid.code, byUid.stderr).toBe(0);
      expect(byUid.stdout).toMatch(/^visible in Palette proj-by-name:1\.0\.0 \(packUid [0-9a-f]{24}\)$/m);
    } finally {
      w.palette.projects?.delete(uid);
      w.palette.projectNames.delete(uid);
    }
  });

  it('a registry Palette lists no pack through yet, and a project uid Palette refuses (403): exit 2 before publishing, from a pack of another registry read there (was: published, then exit 3)', async () => {
    // Palette lists a pack through the lab's registry (the read the check borrows); empty-lab serves a base path with none.
    expect((await runCli(['push', w.packs.first, ...at(), '--palette-sync'], { env: env() })).code).toBe(0);
    const empty = ['--registry', `${w.registry.host}/${w.under('emptybase')}`];
    w.palette.addRegistry('basic', 'empty-lab', { endpoint: `http://${w.registry.host}`, baseContentPath: w.under('emptybase'), providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const pack = await writePack(join(w.root, 'empty-first'), { name: 'proj-empty', version: '1.0.0' });
    w.palette.unknownProjectStatus = 403;
    // A key that may not read the project itself (403): the pack reads tell it.
    w.palette.projectReadsRefused = true;
    try {
      const from = w.palette.requests.length;
      const run = await runCli(['push', pack, ...empty, '--palette-sync', '--palette-project', 'p-nosuch', '--json'], { env: env() });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(
        /^error: Palette project p-nosuch \(--palette-project\) cannot show the packs of registry empty-lab: Palette refused a pack read there \(the Palette API key may not read pack proj-[a-z-]+ in project p-nosuch \(403\): User is not authorized to access the resource\); nothing was published \(push --palette-sync checks Palette first\)$/m,
      );
      expect(run.stderr).toContain(`${hint}, that the key's user belongs to it and that registry empty-lab is available there; without a project packpub confirms the packs at tenant scope; ${WITHOUT}\n`);
      const list = await runCli(['list', ...empty, '--json'], { env: env() });
      expect(list.code === 0 ? (JSON.parse(list.stdout) as { packs: unknown[] }).packs : []).toEqual([]);
      const made = requestsSince(from);
      expect(made.triggers).toBe(0);
      // The registry's search in the project (refused, 403) and at tenant scope (none), one of every registry at tenant
      // scope, and its pack read in the project (refused too).
      expect(w.palette.requests.slice(from).filter((r) => r.prefix === '/v1/packs' || r.prefix === '/v1/projects').map((r) => `${r.path.replace(/^\/v1\/packs\/proj-[a-z-]+\//, '/v1/packs/P/')} ${r.projectUid ?? 'tenant'}`)).toEqual([
        '/v1/projects/p-nosuch tenant',
        '/v1/packs/search p-nosuch',
        '/v1/packs/search tenant',
        '/v1/packs/search tenant',
        `/v1/packs/P/registries/${w.uid} p-nosuch`,
      ]);
    } finally {
      w.palette.unknownProjectStatus = 404;
      w.palette.projectReadsRefused = false;
    }
    // Answered 404 (a pack not shown there tells nothing of this registry): the project itself, read at tenant scope,
    // is not known (404) either: exit 2 before publishing (was: published, then exit 3 after the sync it asked for).
    const from = w.palette.requests.length;
    const unknown = await runCli(['push', pack, ...empty, '--palette-sync', '--palette-project', 'p-nosuch', '--json'], { env: env() });
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain(`error: ${cannotShow('p-nosuch', 'Palette has no project with that uid (reading project p-nosuch answered 404, and Palette\'s list of projects does not name it)').replace('project-lab', 'empty-lab')}${NOTHING}\n`);
    const list = await runCli(['list', ...empty, '--json'], { env: env() });
    expect(list.code === 0 ? (JSON.parse(list.stdout) as { packs: unknown[] }).packs : []).toEqual([]);
    expect(requestsSince(from).triggers).toBe(0);
    expect(w.palette.requests.slice(from).filter((r) => r.path.startsWith('/v1/projects/')).map((r) => `${r.path} ${r.status} ${r.projectUid ?? 'tenant'}`)).toEqual(['/v1/projects/p-nosuch 404 tenant']);
    // palette sync of what is published there: refused before the sync is asked for, exit 2.
    expect((await runCli(['push', pack, ...empty], { env: env() })).code).toBe(0);
    const before = w.palette.requests.length;
    const sync = await runCli(['palette', 'sync', 'proj-empty:1.0.0', ...empty, '--palette-project', 'p-nosuch'], { env: env() });
    expect(sync.code, sync.stderr).toBe(2);
    expect(sync.stderr).toContain('error: Palette project p-nosuch (--palette-project) cannot show the packs of registry empty-lab: Palette has no project with that uid (reading project p-nosuch answered 404, and Palette\'s list of projects does not name it)\n');
    expect(requestsSince(before).triggers).toBe(0);
    // A project Palette knows that shows no pack of the registry yet (its first publish) is not refused: published, confirmed after the sync.
    w.palette.projects?.set('p-new', undefined);
    const fresh = await writePack(join(w.root, 'empty-fresh'), { name: 'proj-empty-fresh', version: '1.0.0' });
    const known = await runCli(['push', fresh, ...empty, '--palette-sync', '--palette-project', 'p-new'], { env: env() });
    expect(known.code, known.stderr).toBe(0);
    expect(known.stdout).toMatch(/^visible in Palette proj-empty-fresh:1\.0\.0 /m);
  });

  it('the search telling nothing, push of a new version while the project is wrong, and the sync fails: each pack gives both reasons, exit 3 (was: the sync\'s only)', async () => {
    w.palette.failSyncs = 'cannot reach the registry';
    const pack = await writePack(join(w.root, 'failed-sync'), { name: 'proj-first', version: '1.2.0' });
    const run = await searchShowingNothing(() => runCli(['push', pack, ...at(), '--palette-sync', '--palette-project', 'p-hidden'], { env: env() }));
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toContain(
      "NOT VISIBLE in Palette proj-first:1.2.0: Palette's sync of project-lab failed: cannot reach the registry; and Palette project p-hidden (--palette-project) cannot show the packs of registry project-lab: Palette lists proj-first through that registry at tenant scope, but not in the project; ",
    );
    expect(await listedVersions(at(), env())).toContain('proj-first:1.2.0');
  });

  it('a search in the project showing no pack while the project\'s pack reads show them: not refused, published and confirmed (exit 0)', async () => {
    // How Palette's search treats a project is not documented: the refusal rests on the pack reads, as after a sync.
    let searches = 0;
    w.palette.searchItemsAnswer = (page) => (searches++ === 0 ? [] : page);
    try {
      const pack = await writePack(join(w.root, 'search-blind'), { name: 'proj-first', version: '1.3.0' });
      const run = await runCli(['push', pack, ...at(), '--palette-sync', '--palette-project', 'p-all'], { env: env() });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^visible in Palette proj-first:1\.3\.0 \(packUid [0-9a-f]+\)$/m);
      expect(await listedVersions(at(), env())).toContain('proj-first:1.3.0');
    } finally {
      w.palette.searchItemsAnswer = undefined;
    }
  });
});

describe('palette sync of several targets, one with a wrong palette.project', () => {
  it('is refused before the first sync: exit 2, nothing synced (was: the first target synced and confirmed, then the refusal)', async () => {
    const other = w.palette.addRegistry('basic', 'project-lab-2', { endpoint: `http://${w.registry.host}`, baseContentPath: w.under('projbase2'), providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    for (const base of ['projbase', 'projbase2']) {
      const push = await runCli(['push', w.packs.first, '--registry', `${w.registry.host}/${w.under(base)}`], { env: env() });
      expect(push.code, push.stderr).toBe(0);
    }
    const config = join(w.root, 'two-projects.yaml');
    await writeFile(config, `targets:\n  good:\n    registry: ${w.registry.host}/${w.under('projbase')}\n    palette:\n      project: p-all\n  wrong:\n    registry: ${w.registry.host}/${w.under('projbase2')}\n    palette:\n      project: p-nosuch\n`);
    const syncs = () => [w.uid, other].map((uid) => w.palette.registries.get(uid)?.syncRequests.length ?? 0);
    const before = syncs();
    const run = await runCli(['palette', 'sync', '--config', config, '--target', 'good,wrong', '--palette-poll-interval', '0.02'], { env: env() });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`error: Palette project p-nosuch (--palette-project) cannot show the packs of registry project-lab-2: Palette has no project with that uid`);
    expect(run.stderr).toContain('; nothing was synced (palette sync finds the Palette registry of every target first)');
    expect(syncs()).toEqual(before);
  });
});
