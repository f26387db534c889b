import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boundedRun, type CliRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { proxiedSharedRegistry } from '../support/proxied-writes.js';
import { setup } from '../support/stage.js';
import { rawAnswer, startWireProxy, type WireProxy, type WireRequest } from '../support/wire-proxy.js';

/*
 * Interim answers (HTTP 1xx) before, or instead of, a registry's answer. A client must read 1xx answers it did not
 * ask for (RFC 9110 15.2) and wait for the final one; undici starts its headers timeout again at each one, so a
 * server or proxy sending `103 Early Hints` now and then, never the answer, held a push (or a login) for ever,
 * whatever --request-timeout and --retry-deadline said. A real registry sits behind a proxy that writes the 1xx.
 */

const w = setup(async (stack) => {
  const world = await proxiedSharedRegistry(stack, 'packpub-interim-');
  // The runs held by interim answers wait out their request timeouts side by side (describe.concurrent below), each
  // through a proxy of its own, so that one's interim answers never reach another's requests.
  const held = async () => stack.add(await startWireProxy(world.registry.host));
  const [head103, head100, login] = await Promise.all([held(), held(), held()]);
  return { ...world, held: { head103, head100, login } };
});

const EARLY_HINTS = 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n';
/**
 * For the runs held by interim answers without end: two attempts of 2 s each. Every other request of such a run must be
 * answered within them: at 0.5 s, a registry a loaded machine gave no core for that long failed a run at its /v2/ probe.
 */
const LIMITS = ['--request-timeout', '2', '--retry-attempts', '2', '--retry-delay', '0', '--retry-deadline', '10'];
/**
 * For the runs whose every answer comes (after interim answers it must read past, or a 101 it must refuse): no request
 * timeout of their own, so that a registry slow on a loaded machine fails none of them (with 0.5 s, a blob HEAD answered
 * after 0.5 s twice failed a push: "it sent only interim answers ... for 0.5 s"); a run held for ever still ends at BOUND_MS.
 */
const ANSWERED = ['--retry-attempts', '2', '--retry-delay', '0'];
/** What LIMITS allow, with room for a loaded machine: two attempts of 2 s each. */
const BOUND_MS = 20_000;

const bounded = (run: Promise<CliRun>): Promise<CliRun> => boundedRun(run, BOUND_MS);

let n = 0;
async function freshPack(): Promise<{ dir: string; name: string }> {
  const name = `interim-${n++}`;
  return { dir: await writePack(join(w.root, name), { name, version: '1.0.0' }), name };
}

function answering(proxy: WireProxy, hook: (r: WireRequest) => boolean) {
  proxy.onRequest = (r) => (hook(r) ? { repeat: EARLY_HINTS, everyMs: 200 } : 'pass');
}

describe.concurrent('interim answers without end (each run through a proxy of its own, side by side)', () => {
  it('push: a manifest HEAD answered only with 103 ends at the request timeout of each attempt, exit 1 naming it, nothing tagged (was: held for ever)', async () => {
    const { dir, name } = await freshPack();
    const proxy = w.held.head103;
    answering(proxy, (r) => r.method === 'HEAD' && r.path.includes('/manifests/'));
    try {
      const run = await bounded(runCli(['push', dir, '--registry', `${proxy.host}/${w.registry.base}`, '--no-cache', ...LIMITS]));
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`FAILED ${name}:1.0.0: timed out waiting for ${proxy.host}: it sent only interim answers (HTTP 1xx) to HEAD`);
      expect(run.stderr).toContain('for 2 s, never the answer');
      expect(stackLines(run.stderr)).toEqual([]);
    } finally {
      proxy.onRequest = undefined;
    }
    expect(await w.reader.tags(`${w.registry.base}/spectro-packs/archive/${name}`)).toEqual([]);
  });

  it('push: a manifest HEAD answered only with 100 Continue, read past each time, ends at the request timeout of each attempt, exit 1, nothing tagged', async () => {
    const { dir, name } = await freshPack();
    const proxy = w.held.head100;
    proxy.onRequest = (r) => (r.method === 'HEAD' && r.path.includes('/manifests/') ? { repeat: 'HTTP/1.1 100 Continue\r\n\r\n', everyMs: 200 } : 'pass');
    try {
      const run = await bounded(runCli(['push', dir, '--registry', `${proxy.host}/${w.registry.base}`, '--no-cache', ...LIMITS]));
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`FAILED ${name}:1.0.0: timed out waiting for ${proxy.host}`);
      expect(stackLines(run.stderr)).toEqual([]);
    } finally {
      proxy.onRequest = undefined;
    }
    expect(await w.reader.tags(`${w.registry.base}/spectro-packs/archive/${name}`)).toEqual([]);
  });

  it('login: a /v2/ check answered only with 103 ends the same way and saves nothing (was: held for ever)', async () => {
    const config = join(w.root, 'docker-config.json');
    const proxy = w.held.login;
    answering(proxy, (r) => r.path === '/v2/');
    try {
      const run = await bounded(runCli(['login', proxy.host, '-u', 'someone', '--password-stdin', '--registry-config', config, ...LIMITS.slice(0, 6)], { stdin: 'pw' }));
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain('it sent only interim answers (HTTP 1xx) to GET');
      expect(stackLines(run.stderr)).toEqual([]);
    } finally {
      proxy.onRequest = undefined;
    }
    expect(existsSync(config)).toBe(false);
  });
});

describe('interim answers before the answer', () => {
  it('a 103 before every answer is read past: push exit 0, and the registry holds the pack', async () => {
    const { dir, name } = await freshPack();
    w.proxy.onRequest = () => ({ before: EARLY_HINTS });
    let run: CliRun;
    try {
      run = await bounded(runCli(['push', dir, '--registry', `${w.proxy.host}/${w.registry.base}`, '--no-cache', ...ANSWERED]));
    } finally {
      w.proxy.onRequest = undefined;
    }
    expect(run.code, run.stderr).toBe(0);
    const held = await w.reader.holdings(`${w.registry.base}/spectro-packs/archive`);
    expect(held.problems).toEqual([]);
    const digest = held.tags.get(`${w.registry.base}/spectro-packs/archive/${name}:1.0.0`);
    expect(digest).toBeDefined();
    expect(run.stdout).toContain(`published ${name}:1.0.0`);
    expect(run.stdout).toContain(digest!.slice(0, 19));
  });
});

describe('an unasked 100 Continue', () => {
  it('before every answer (twice, and after a 103): push, tag and pull read past it, exit 0, the registry holds the pack (was: exit 1, "with an interim 100 Continue ... which packpub did not ask for and cannot read")', async () => {
    const { dir, name } = await freshPack();
    const R = ['--registry', `${w.proxy.host}/${w.registry.base}`];
    const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
    w.proxy.onRequest = () => ({ before: `${CONTINUE}${EARLY_HINTS}${CONTINUE}` });
    let pushed: CliRun;
    let tagged: CliRun;
    let pulled: CliRun;
    const out = join(w.root, 'pulled-100');
    try {
      pushed = await bounded(runCli(['push', dir, ...R, '--no-cache', ...ANSWERED]));
      tagged = await bounded(runCli(['tag', `${name}:1.0.0`, 'stable', ...R, ...ANSWERED]));
      pulled = await bounded(runCli(['pull', `${name}:1.0.0`, '-o', out, ...R, ...ANSWERED]));
    } finally {
      w.proxy.onRequest = undefined;
    }
    for (const run of [pushed, tagged, pulled]) {
      expect(run.code, run.stderr).toBe(0);
      expect(stackLines(run.stderr)).toEqual([]);
    }
    const held = await w.reader.holdings(`${w.registry.base}/spectro-packs/archive`);
    expect(held.problems).toEqual([]);
    const digest = held.tags.get(`${w.registry.base}/spectro-packs/archive/${name}:1.0.0`);
    expect(pushed.stdout).toContain(digest!.slice(0, 19));
    expect(held.tags.get(`${w.registry.base}/spectro-packs/archive/${name}:stable`)).toBe(digest);
    expect(existsSync(join(out, 'pack.json'))).toBe(true);
  });
});

describe('interim answers undici cannot read', () => {
  it('a 101 to a manifest read: exit 1 naming it (was: "connection ... was closed unexpectedly")', async () => {
    const { dir, name } = await freshPack();
    const R = ['--registry', `${w.proxy.host}/${w.registry.base}`];
    expect((await runCli(['push', dir, ...R, '--no-cache'])).code).toBe(0);
    const out = join(w.root, 'pulled-101');
    w.proxy.onRequest = (r) => (r.method === 'GET' && r.path.includes('/manifests/') ? { raw: rawAnswer(101, 'Switching Protocols', { upgrade: 'h2c', connection: 'upgrade' }) } : 'pass');
    let pulled: CliRun;
    try {
      pulled = await bounded(runCli(['pull', `${name}:1.0.0`, '-o', out, ...R, ...ANSWERED]));
    } finally {
      w.proxy.onRequest = undefined;
    }
    expect(pulled.code, pulled.stderr).toBe(1);
    expect(pulled.stderr).toContain(`with a switch to another protocol (101), which packpub did not ask for and cannot read`);
    expect(stackLines(pulled.stderr)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});
