import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { listedVersions, proxiedPaletteLab } from '../support/published.js';
import { type ProxyAction } from '../support/recording-proxy.js';
import { expectReportValid } from '../support/report-schema.js';
import { setup, thenUndo } from '../support/stage.js';

/*
 * Something in front of Palette's API answering for it: a sign-in redirect, a proxy's or gateway's HTML error page.
 * Palette answers JSON (its errors are v1Error, palette-api.md 1), and packpub follows no redirect (the key goes to
 * the endpoint only). Before: a 302 read "Palette could not list OCI registries (302): <html>...", a 401 page "rejected
 * the API key" (a good key replaced), and an HTML 404 on a pack read "not listed yet", waited on until --palette-timeout,
 * then exit 3 as a pack Palette may have refused. Now each ends the run naming what answered: exit 1, nothing
 * published when it comes before publishing. The stand-in (Palette) sits behind a recording proxy that answers for it.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();

const w = setup((stack) => proxiedPaletteLab(stack, 'foreign', KEY, clock));
const env = () => w.env;
const at = () => w.at;
const HINT = "hint: check --palette-endpoint (or SPECTROCLOUD_HOST): the API host itself (the SaaS API is https://api.spectrocloud.com), not the console's or a sign-in page's, and that a proxy between this machine and Palette lets the API through";
const SIGN_IN = '<!DOCTYPE html>\n<html><head><title>Sign in | Example Corp</title></head><body><form>Please sign in to continue.</form></body></html>';

async function answering<T>(hook: (path: string) => ProxyAction, fn: () => Promise<T>): Promise<T> {
  w.proxy.onRequest = (req) => hook(req.path);
  return thenUndo(fn, () => {
    w.proxy.onRequest = undefined;
  });
}

describe('a proxy or sign-in page answering for Palette', () => {
  it('a redirect to a sign-in page: exit 1 before publishing, naming the redirect without its query (was: "Palette could not list OCI registries (302): <html>...")', async () => {
    const junit = join(w.root, 'redirect.xml');
    const run = await answering(
      () => ({ status: 302, headers: { location: 'https://login.example.com/sso/start?state=s3cr3t-state&redirect=x', 'content-type': 'text/html' }, body: SIGN_IN }),
      () => runCli(['push', w.packs.a, ...at(), '--palette-sync', '--json', '--junit', junit], { env: env() }),
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      `error: Palette at ${w.proxy.host} answered list OCI registries with 302 (a redirect to https://login.example.com/sso/start, which packpub does not follow: the API key goes to the Palette endpoint only) and an HTML page ("Sign in | Example Corp"): not an answer of the Palette API, but of a proxy, gateway or sign-in page in front of it; nothing was published (push --palette-sync checks Palette first)\n`,
    );
    expect(run.stderr).toContain(`${HINT}; or drop --palette-sync to publish without confirming the packs in Palette\n`);
    expect(run.stderr).not.toContain('s3cr3t-state');
    expect(run.stderr).not.toContain('<form>');
    expect(await readFile(junit, 'utf8')).toContain('type="PALETTE"');
    expect(await listedVersions(at(), env())).toEqual([]);
  });

  it('a 401 sign-in page is not read as Palette rejecting the key: exit 1 before publishing', async () => {
    const run = await answering(
      () => ({ status: 401, headers: { 'content-type': 'text/html; charset=utf-8' }, body: SIGN_IN }),
      () => runCli(['push', w.packs.a, ...at(), '--palette-sync'], { env: env() }),
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error: Palette at ${w.proxy.host} answered list OCI registries with 401 and an HTML page ("Sign in | Example Corp"): not an answer of the Palette API, but of a proxy, gateway or sign-in page in front of it; nothing was published`);
    expect(run.stderr).not.toContain('rejected the API key');
    expect(run.stderr).not.toContain('Profile > My API Keys');
    expect(run.stderr).toContain(HINT);
    expect(await listedVersions(at(), env())).toEqual([]);
  });

  it('Palette\'s own 401 (v1Error JSON) still says the key was rejected', async () => {
    const run = await runCli(['palette', 'sync', ...at()], { env: { ...env(), SPECTROCLOUD_APIKEY: 'not-a-key-of-this-palette' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: Palette at ${w.proxy.host} rejected the API key (401)`);
  });

  it('an HTML 404 on the pack reads (after publishing): exit 1 at once, the packs published, the report naming it (was: waited until --palette-timeout, exit 3)', async () => {
    const junit = join(w.root, 'pack-404.xml');
    const run = await answering(
      (path) => (path.startsWith('/v1/packs/') && path !== '/v1/packs/search' ? { status: 404, headers: { 'content-type': 'text/html' }, body: '<html><head><title>404 Not Found</title></head><body><center>nginx</center></body></html>' } : 'pass'),
      () => runCli(['push', w.packs.b, ...at(), '--palette-sync', '--palette-poll-interval', '1', '--json', '--junit', junit], { env: env() }),
    );
    expect(run.code, run.stderr).toBe(1);
    const message = `Palette at ${w.proxy.host} answered read pack foreign-b with 404 and an HTML page ("404 Not Found"): not an answer of the Palette API, but of a proxy, gateway or sign-in page in front of it`;
    expect(run.stderr).toContain(`error: ${message}\n`);
    const report = JSON.parse(run.stdout) as { ok: boolean; palette: { status: string; error: { code: string; message: string } } };
    expectReportValid(report);
    expect(report.palette.status).toBe('error');
    expect(report.palette.error).toMatchObject({ code: 'PALETTE', message });
    expect(await listedVersions(at(), env())).toEqual(['foreign-b:1.0.0']);
    // One read of the pack, no wait for --palette-timeout (600 s).
    expect(w.proxy.requests.filter((r) => r.path.startsWith('/v1/packs/foreign-b/')).length).toBe(1);
  });

  it('an error whose message is not text (a gateway\'s JSON): Palette\'s answer shown, exit 1, nothing published (was: "text.replace is not a function", a bug in packpub)', async () => {
    const body = JSON.stringify({ code: 403, message: { reason: 'denied by gateway policy' } });
    const refused = await answering(
      (path) => (path.startsWith('/v1/registries/oci/summary') ? { status: 403, headers: { 'content-type': 'application/json' }, body } : 'pass'),
      () => runCli(['push', w.packs.a, ...at(), '--palette-sync'], { env: env() }),
    );
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`error: the Palette API key may not list OCI registries (403): ${body}; nothing was published`);
    expect(refused.stderr).not.toContain('bug in packpub');
    const failing = await answering(
      (path) => (path.startsWith('/v1/registries/oci/summary') ? { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'InternalError', message: 42 }) } : 'pass'),
      () => runCli(['push', w.packs.a, ...at(), '--palette-sync', '--retry-attempts', '1'], { env: env() }),
    );
    expect(failing.code, failing.stderr).toBe(1);
    expect(failing.stderr).toContain('error: Palette answered 500 to list OCI registries after 1 attempt; nothing was published');
    expect(failing.stderr).not.toContain('bug in packpub');
    expect(await listedVersions(at(), env())).not.toContain('foreign-a:1.0.0');
    // A sync refusal (409, read as a sync running) whose message is a list: the run goes on and says Palette's words are missing.
    const push = await runCli(['push', w.packs.a, ...at()], { env: env() });
    expect(push.code, push.stderr).toBe(0);
    const busy = await answering(
      (path) => (/\/sync(\?|$)/.test(path) ? { status: 409, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'SyncInProgress', message: ['busy'] }) } : 'pass'),
      () => runCli(['palette', 'sync', ...at(), '--palette-timeout', '2', '--palette-poll-interval', '0.5'], { env: env() }),
    );
    expect(busy.code, busy.stderr).toBe(3);
    expect(busy.stderr).toContain('palette: Palette did not start a sync of foreign-lab (409: no message); asking again once the sync running ends');
    expect(busy.stdout).toContain('NOT VISIBLE in Palette foreign-a:1.0.0: timed out after');
    expect(busy.stderr).not.toContain('bug in packpub');
  });

  it('a registry created with no uid in the answer: exit 1 saying what to run (was: no hint); register again finds or creates it once', async () => {
    const base = w.under('nouid');
    const run = await answering(
      (path) => (/^\/v1\/registries\/oci\/basic(\?|$)/.test(path) ? { status: 201, headers: { 'content-type': 'application/json' }, body: '{}' } : 'pass'),
      () => runCli(['palette', 'register', '--registry', `${w.registry.host}/${base}`], { env: env() }),
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error: Palette created registry 127-0-0-1-${base.replace(/[^a-z0-9]+/g, '-')} but returned no uid\n`);
    expect(run.stderr).toContain('hint: run packpub palette register again: it uses the registry if Palette created it, and creates one only if not');
    const again = await runCli(['palette', 'register', '--registry', `${w.registry.host}/${base}`], { env: env() });
    expect(again.code, again.stderr).toBe(0);
    expect([...w.palette.registries.values()].filter((r) => r.spec['baseContentPath'] === base)).toHaveLength(1);
  });

  it('a gateway\'s HTML 502 page, through the retries: named as the gateway\'s, nothing published (was: "Palette is failing")', async () => {
    const run = await answering(
      () => ({ status: 502, headers: { 'content-type': 'text/html' }, body: '<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>' }),
      () => runCli(['push', w.packs.c, ...at(), '--palette-sync', '--retry-attempts', '2', '--retry-delay', '0'], { env: env() }),
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('error: Palette answered 502 to list OCI registries after 2 attempts with an HTML page ("502 Bad Gateway"), a proxy\'s or gateway\'s in front of Palette; nothing was published');
    expect(run.stderr).toContain('hint: a proxy or gateway between this machine and Palette is failing or cannot reach Palette: check it (HTTPS_PROXY, NO_PROXY) and --palette-endpoint; try again later');
    expect(run.stderr).not.toContain('<center>');
    expect(await listedVersions(at(), env())).not.toContain('foreign-c:1.0.0');
  });

  it('a plain-text 404 (not an HTML page) on a pack read is still "not listed yet"', async () => {
    const run = await answering(
      (path) => (path.startsWith('/v1/packs/foreign-c/') ? { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found' } : 'pass'),
      () => runCli(['push', w.packs.c, ...at(), '--palette-sync', '--palette-timeout', '30', '--palette-poll-interval', '5'], { env: env() }),
    );
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toContain("NOT VISIBLE in Palette foreign-c:1.0.0: Palette's sync of foreign-lab finished but does not list foreign-c:1.0.0");
  });
});
