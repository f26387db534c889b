import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { startPaletteLab } from '../support/palette-lab.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A Pack registry entered in Palette with the base path in its Endpoint (`http://host/<base>`, Base Content Path
 * empty), not as the docs give it (Endpoint the host, the path in Base Content Path). packpub compared endpoints with
 * their path, so the registry was not seen on the host at all: push --palette-sync said no registry serves the
 * target (pointing to register), doctor listed none, and palette register created a second registry beside it. Now
 * it is named in each, with what to edit; register creates nothing (exit 1).
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup(async (stack) => {
  const lab = await startPaletteLab(stack, { prefix: 'packpub-palette-endpoint-path-', key: KEY, name: 'path-lab', base: 'other', clock, shared: true });
  const base = lab.under('pathbase');
  const uid = lab.palette.addRegistry('basic', 'path-in-endpoint', { endpoint: `http://${lab.registry.host}/${base}/`, baseContentPath: '', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
  const pack = await writePack(join(lab.root, 'p'), { name: 'path-a', version: '1.0.0' });
  return { ...lab, base, pathUid: uid, pack };
});

const env = () => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SPECTROCLOUD_HOST: w.palette.url, SPECTROCLOUD_APIKEY: KEY });
const at = () => ['--registry', `${w.registry.host}/${w.base}`];
const problem = () =>
  `Palette registry path-in-endpoint (${w.pathUid}) has Endpoint http://${w.registry.host}/${w.base}/, with a path: Palette takes the Endpoint as the registry's host, the path under it as Base Content Path`;
const fix = () => `Endpoint http://${w.registry.host}, Base Content Path ${w.base}`;

describe('a Pack registry whose Endpoint holds the base path', () => {
  it('push --palette-sync: named, with what to edit, before publishing (was: "no Pack registry serves", pointing to register)', async () => {
    const run = await runCli(['push', w.pack, ...at(), '--palette-sync'], { env: env() });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error: no Pack registry in Palette serves ${w.registry.host}/${w.base}: ${problem()}; nothing was published (push --palette-sync checks Palette first)\n`);
    expect(run.stderr).toContain(`hint: edit path-in-endpoint in Palette: ${fix()}; packpub palette doctor checks its settings`);
    expect(w.palette.registries.get(w.pathUid)?.syncRequests).toEqual([]);
  });

  it('palette register: creates no second registry beside it, exit 1 saying what to edit (was: created one)', async () => {
    const before = w.palette.registries.size;
    const run = await runCli(['palette', 'register', ...at()], { env: { ...env(), GITHUB_ACTIONS: 'true' } });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain(`Palette registry path-in-endpoint (${w.pathUid}) is registered for ${w.registry.host}/${w.base} but cannot sync it as it is: nothing created`);
    expect(run.stderr).toContain(`error: ${problem()}; it needs ${fix()}; edit it in Palette (packpub palette doctor checks it)\n`);
    // In GitHub Actions the problem is an annotation too (was: none, only the exit code).
    expect(run.stderr.split('\n').filter((l) => l.startsWith('::'))).toEqual([`::error title=packpub palette register::${problem()}; it needs ${fix()}`]);
    expect(w.palette.registries.size).toBe(before);
    expect(w.palette.requests.filter((r) => r.method === 'POST' && /^\/v1\/registries\/oci\/(basic|ecr)$/.test(r.path))).toEqual([]);
  });

  it('palette doctor: lists it and names the problem (was: no registry on the host)', async () => {
    const run = await runCli(['palette', 'doctor', ...at(), '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as { palette: { registries: { uid: string }[] }; findings: { check: string; ok: boolean; message: string; fix?: string }[] };
    expect(report.palette.registries.map((r) => r.uid)).toContain(w.pathUid);
    expect(report.findings).toContainEqual({ check: 'palette-endpoint', ok: false, message: problem(), fix: `edit path-in-endpoint: ${fix()}` });
  });
});

describe('a registry record with no name', () => {
  it('push --palette-sync to the registry it serves: the uid stands for the name, exit 0 (was: a crash, TypeError, after publishing)', async () => {
    const base = w.under('nameless');
    const uid = w.palette.addRegistry('basic', 'nameless', { endpoint: `http://${w.registry.host}`, baseContentPath: base, providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    // The summary then carries metadata without name (JSON leaves the undefined field out).
    (w.palette.registries.get(uid) as { name: unknown }).name = undefined;
    const pack = await writePack(join(w.root, 'nameless'), { name: 'nameless-a', version: '1.0.0' });
    const run = await runCli(['push', pack, '--registry', `${w.registry.host}/${base}`, '--palette-sync'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`palette: ${w.registry.host}/${base} is served by Palette registry ${uid} (${uid}) at `);
    expect(run.stdout).toMatch(/^visible in Palette nameless-a:1\.0\.0 \(packUid [0-9a-f]+\)$/m);
  });
});

/*
 * A Pack registry entered with a user name and password in its Endpoint (`http://robot:<password>@host`). Its host did
 * not match the target's: push --palette-sync said no registry serves the target (exit 1, pointing to register), and
 * register would have added a second one beside it; doctor printed the endpoint, password included. Now the userinfo is
 * not part of the host: the registry serves the target, and the password is printed nowhere.
 */
describe('a Pack registry whose Endpoint carries a user name and password', () => {
  it('serves the target: push --palette-sync exit 0, register creates none, doctor finds it; the password is printed nowhere (was: exit 1, "no Pack registry serves")', async () => {
    const password = `pw-${Math.random().toString(36).slice(2)}`;
    const base = w.under('login');
    const uid = w.palette.addRegistry('basic', 'with-login', { endpoint: `http://robot:${password}@${w.registry.host}`, baseContentPath: base, providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const target = ['--registry', `${w.registry.host}/${base}`];
    const pack = await writePack(join(w.root, 'login'), { name: 'login-a', version: '1.0.0' });
    const run = await runCli(['push', pack, ...target, '--palette-sync', '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { palette: { targets: { registry: { uid: string; endpoint: string }; packs: { status: string; packUid?: string }[] }[] } };
    expect(report.palette.targets[0]?.registry).toMatchObject({ uid, endpoint: `http://${w.registry.host}` });
    expect(report.palette.targets[0]?.packs).toEqual([expect.objectContaining({ status: 'visible', packUid: w.palette.registries.get(uid)?.index.get('login-a')?.get('1.0.0')?.packUid })]);
    const before = w.palette.registries.size;
    const register = await runCli(['palette', 'register', ...target], { env: env() });
    expect(register.code, register.stdout + register.stderr).toBe(0);
    expect(register.stdout).toContain(`with-login (${uid})`);
    expect(w.palette.registries.size).toBe(before);
    const doctor = await runCli(['palette', 'doctor', ...target, '--json'], { env: env() });
    const found = JSON.parse(doctor.stdout) as { palette: { registries: { uid: string; endpoint?: string }[] } };
    expect(found.palette.registries).toContainEqual(expect.objectContaining({ uid, endpoint: `http://${w.registry.host}` }));
    for (const out of [run, register, doctor]) expect(out.stdout + out.stderr).not.toContain(password);
    // Palette still stores it as entered: packpub changed nothing there.
    expect(w.palette.registries.get(uid)?.spec['endpoint']).toBe(`http://robot:${password}@${w.registry.host}`);
  });
});

/*
 * A Basic registry with an API base path (basePath, "OCI registry api base path"; Terraform's endpoint_suffix, given for
 * JFrog): Palette reads the registry's OCI API under it, while packpub publishes through the host's /v2/. It matched the
 * target; its sync read another tree (here none: the registry serves nothing there) and push ended 3 with Palette's
 * message alone; doctor said nothing of it. Now doctor names it, with what to edit.
 */
describe('a Pack registry with an API base path', () => {
  it('doctor: FAIL palette-endpoint naming it, exit 1 (was: not named); push --palette-sync: exit 3 with the failed sync Palette reports', async () => {
    const base = w.under('apipath');
    const uid = w.palette.addRegistry('basic', 'api-path', { endpoint: `http://${w.registry.host}`, basePath: 'artifactory/api/docker/packs', baseContentPath: base, providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const target = ['--registry', `${w.registry.host}/${base}`];
    const doctor = await runCli(['palette', 'doctor', ...target, '--json'], { env: env() });
    expect(doctor.code, doctor.stderr).toBe(1);
    const report = JSON.parse(doctor.stdout) as { findings: { check: string; ok: boolean; message: string; fix?: string }[] };
    expect(report.findings).toContainEqual({
      check: 'palette-endpoint',
      ok: false,
      message: `Palette registry api-path (${uid}) has an API base path (basePath artifactory/api/docker/packs): Palette reads the registry's OCI API under ${w.registry.host}/artifactory/api/docker/packs/v2/, while packpub publishes through ${w.registry.host}/v2/`,
      fix: "edit api-path: clear its API base path (Terraform's endpoint_suffix), or publish to the registry its API base path serves",
    });
    const pack = await writePack(join(w.root, 'api-path'), { name: 'api-a', version: '1.0.0' });
    const run = await runCli(['push', pack, ...target, '--palette-sync', '--palette-poll-interval', '0.02'], { env: env() });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stdout).toMatch(/NOT VISIBLE in Palette api-a:1\.0\.0: Palette's sync of api-path failed: listing repositories of http:\/\/[^ ]+ failed: 404/);
    expect(w.palette.registries.get(uid)?.index.size).toBe(0);
  });

  it('one that is not text (an odd Palette): doctor tells nothing of it, and does not crash (review38: was exit 1, "replace is not a function")', async () => {
    const base = w.under('apinum');
    const uid = w.palette.addRegistry('basic', 'api-num', { endpoint: `http://${w.registry.host}`, basePath: 5, baseContentPath: base, providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const doctor = await runCli(['palette', 'doctor', '--registry', `${w.registry.host}/${base}`, '--json'], { env: env() });
    expect(doctor.stderr).not.toContain('bug in packpub');
    const report = JSON.parse(doctor.stdout) as { findings: { check: string; ok: boolean; message: string }[] };
    expect(report.findings).toContainEqual(expect.objectContaining({ check: 'palette-registry', ok: true, message: `Palette registry api-num (${uid}) serves ${w.registry.host}/${base}` }));
    expect(report.findings.filter((f) => f.message.includes('API base path'))).toEqual([]);
  });
});
