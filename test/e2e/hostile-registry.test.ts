import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostileRegistry, type HostileBehaviour, type HostileRegistry } from '../support/hostile-registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { setup, type Stage } from '../support/stage.js';
import { hurryRetries } from '../support/clock.js';

/*
 * issue 13 items 11-13: a registry that lies gets a clear error, never a crash, a hang or unbounded work.
 * packpub first pushes a real pack to the stand-in, which then lies about what it serves.
 */

interface HelloWorld {
  hostile: HostileRegistry;
  root: string;
  R: string;
}

/** A hostile stand-in (closed with `stack`) to which hello:1.0.0 was pushed with `login` (flags, and the password on stdin), its repository R and a temp folder. */
async function pushedHello(stack: Stage, prefix: string, behaviour: HostileBehaviour, login: string[], password?: string): Promise<HelloWorld> {
  const root = await stack.tempDir(prefix);
  const hostile = stack.add(await startHostileRegistry(behaviour));
  const R = `${hostile.host}/evil`;
  const pack = await writePack(join(root, 'p'), { name: 'hello', version: '1.0.0' });
  const push = await runCli(['push', pack, '--registry', R, ...login], password === undefined ? {} : { stdin: password });
  expect(push.code, push.stderr).toBe(0);
  return { hostile, root, R };
}

/** The world of a describe block: pushedHello's, closed after the block. */
function helloOnHostile(prefix: string, behaviour: HostileBehaviour, login: string[], password?: string): HelloWorld {
  return setup((stack) => pushedHello(stack, prefix, behaviour, login, password));
}

/**
 * Worlds of their own for tests that mostly wait on a stand-in that stalls or drips (each changes its
 * stand-in's behaviour): they wait side by side (describe.concurrent), not one after the other. Built at once.
 */
function hellosOnHostile<K extends string>(names: readonly K[], prefix: string, behaviour: HostileBehaviour, login: string[], password?: string): Record<K, HelloWorld> {
  return setup(async (stack) => {
    const worlds = await Promise.all(names.map((name) => pushedHello(stack, `${prefix}${name}-`, behaviour, login, password)));
    return Object.fromEntries(names.map((name, i) => [name, worlds[i]])) as Record<K, HelloWorld>;
  });
}

describe('a hostile registry', () => {
  const w = helloOnHostile('packpub-hostile-', {}, []);

  it.each([7, -7])('item 11: a blob Content-Length %i bytes off its descriptor is one clear error for pull, inspect and copy', async (delta) => {
    w.hostile.behaviour = { blobSizeDelta: delta };
    const out = join(w.root, `out${delta}`);
    const runs = {
      pull: await runCli(['pull', 'hello:1.0.0', '--registry', w.R, '-o', out]),
      inspect: await runCli(['inspect', 'hello:1.0.0', '--registry', w.R]),
      copy: await runCli(['copy', 'hello:1.0.0', '--from', w.R, '--to', `oci:${join(w.root, `copy${delta}`)}`]),
    };
    for (const [what, run] of Object.entries(runs)) {
      expect(run.code, `${what}: ${run.stderr}`).toBe(1);
      expect(run.stderr, what).toMatch(/blob sha256:[0-9a-f]{64} is \d+ bytes on 127\.0\.0\.1:\d+, its descriptor says \d+/);
      expect(stackLines(run.stderr), what).toEqual([]);
    }
    // nothing half-written beside the output, no staging folder
    expect((await readdir(w.root)).filter((f) => f.includes('.packpub-') || f === `out${delta}`)).toEqual([]);
    w.hostile.behaviour = {};
  });

  it('item 13: a page of more tags than packpub keeps, a Link loop and endless pages are clear errors, with bounded requests', async () => {
    w.hostile.behaviour = { tagCount: 100_001 }; // one more than packpub keeps (MAX_LISTED)
    w.hostile.requests.length = 0;
    const million = await runCli(['list', 'hello', '--registry', w.R]);
    expect(million.code).toBe(1);
    expect(million.stderr).toContain('lists more than 100000 tags');
    expect(stackLines(million.stderr)).toEqual([]);
    expect(w.hostile.requests.filter((r) => r.path.includes('/manifests/'))).toEqual([]); // no request per tag

    w.hostile.behaviour = { linkLoop: 'repeat' };
    const loop = await runCli(['list', 'hello', '--registry', w.R]);
    expect(loop.code).toBe(1);
    expect(loop.stderr).toMatch(/pages tags of evil\/spectro-packs\/archive\/hello in a loop: page 1 links back to/);

    w.hostile.behaviour = { linkLoop: 'endless' };
    w.hostile.requests.length = 0;
    const endless = await runCli(['list', 'hello', '--registry', w.R]);
    expect(endless.code).toBe(1);
    // Each page repeats the same tags with a Link to a new page: refused once 4 pages in a row brought nothing new (was: 1000 pages read).
    expect(endless.stderr).toContain('pages tags of evil/spectro-packs/archive/hello with 4 pages in a row that bring nothing new and still link to more');
    expect(w.hostile.requests.filter((r) => r.path.includes('/tags/list')).length).toBe(5);
    w.hostile.behaviour = {};

    const honest = await runCli(['list', 'hello', '--registry', w.R]);
    expect(honest.code, honest.stderr).toBe(0);
    expect(honest.stdout).toContain('hello  1.0.0');
  });

  it.each([
    ['a Docker-Content-Digest other than the bytes', { manifestDigest: `sha256:${'0'.repeat(64)}` }, /^error: manifest 1\.0\.0 in evil\/spectro-packs\/archive\/hello: 127\.0\.0\.1:\d+ says sha256:0{64}, the bytes hash to sha256:[0-9a-f]{64} \(twice in a row\)$/m],
    ['an empty body (with its own digest)', { manifestBody: '' }, /^error: .*manifest/m],
    ['a JSON body that is not a manifest', { manifestBody: '{"hello":1}' }, /^error: .*manifest/m],
  ])('a manifest answered with %s is a clear error for pull and inspect, nothing written', async (_what, behaviour, message) => {
    w.hostile.behaviour = behaviour;
    const out = join(w.root, 'badmanifest');
    for (const args of [['pull', 'hello:1.0.0', '-o', out], ['inspect', 'hello:1.0.0']]) {
      const run = await runCli([...args, '--registry', w.R]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(stackLines(run.stderr)).toEqual([]);
    }
    await expect(readdir(out)).rejects.toThrow();
    w.hostile.behaviour = {};
  });

  it('an answer with a 1 MiB header is a clear error', async () => {
    w.hostile.behaviour = { hugeHeaderBytes: 1024 * 1024 };
    const run = await runCli(['inspect', 'hello:1.0.0', '--registry', w.R]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^error: 127\.0\.0\.1:\d+ answered with headers larger than 16 KiB$/m);
    expect(stackLines(run.stderr)).toEqual([]);
    w.hostile.behaviour = {};
  });

  it('a tag page that links to another origin is refused, not read as the whole list', async () => {
    const other = await startHostileRegistry({ tagsBody: '{"name":"x","tags":["9.9.9"]}' });
    try {
      w.hostile.behaviour = { linkTo: `${other.url}/v2/evil/spectro-packs/archive/hello/tags/list?last=1.0.0` };
      const run = await runCli(['list', 'hello', '--registry', w.R]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`error: ${w.hostile.host} links the next page of tags of evil/spectro-packs/archive/hello to another origin (${other.url})`);
      expect(run.stdout).not.toContain('1.0.0');
      expect(stackLines(run.stderr)).toEqual([]);
      expect(other.requests).toEqual([]);
    } finally {
      w.hostile.behaviour = {};
      await other.close();
    }
  });

  it.each([
    ['null', 'a JSON null'],
    ['[]', 'a JSON array'],
    ['{"tags":"1.0.0"}', 'a "tags" field that is a string'],
    ['{"tags":[1]}', 'a tag that is a number'],
    // found by the answer fuzz (fuzz-registry.test.ts): a page without the field was an empty list, so `list` exited 0 showing nothing
    ['{"name":"x"}', 'an object without a "tags" field'],
  ])('a tag page %s is a clear error', async (body, what) => {
    w.hostile.behaviour = { tagsBody: body };
    const run = await runCli(['list', 'hello', '--registry', w.R]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error: ${w.hostile.host} answered the tags of evil/spectro-packs/archive/hello with ${what}`);
    expect(stackLines(run.stderr)).toEqual([]);
    w.hostile.behaviour = {};
  });

  it('a tag page with "tags": null is an empty list (distribution answers so for a repository without tags)', async () => {
    w.hostile.behaviour = { tagsBody: '{"name":"x","tags":null}' };
    const run = await runCli(['list', 'hello', '--registry', w.R]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('1.0.0');
    w.hostile.behaviour = {};
  });

  it('item 16: a 3-character password echoed in a 401 body is scrubbed from every output, --debug included', async () => {
    w.hostile.behaviour = { users: { robot: 'Xq7' }, echoCredentials: true, wrongCredentialsStatus: 403 };
    for (const args of [['list', 'hello'], ['list', 'hello', '--debug']]) {
      const run = await runCli([...args, '--registry', w.R, '--username', 'robot', '--password-stdin'], { stdin: 'zK9' });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain('error: credentials rejected or no pull permission on evil/spectro-packs/archive/hello: access denied for robot with password ***');
      expect(`${run.stdout}${run.stderr}`).not.toContain('zK9');
    }
    w.hostile.behaviour = {};
  });

  describe.concurrent('answers that stall or drip in (each test on a stand-in of its own, side by side)', () => {
    const slow = hellosOnHostile(['stalled', 'dripped', 'uploads', 'errors'] as const, 'packpub-hostile-', {}, []);

    it('item 12: a body that stalls ends at --retry-deadline, every resume included', async () => {
      slow.stalled.hostile.behaviour = { stallBlobAfter: 100 };
      const out = join(slow.stalled.root, 'out');
      // Each attempt stalls for the request timeout, then resumes: three attempts fit in the deadline. (1 s each, not
      // less: the /v2/ probe and the manifest read before the blob must be answered within them on a loaded machine.)
      const run = await runCli(['pull', 'hello:1.0.0', '--registry', slow.stalled.R, '-o', out, '--request-timeout', '1', '--retry-deadline', '3']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/error: blob sha256:[0-9a-f]{64} from 127\.0\.0\.1:\d+ did not arrive within the retry deadline of 3 s \(\d+ of \d+ bytes received\)/);
      expect(run.stderr).toContain('--retry-deadline');
      await expect(readdir(out)).rejects.toThrow();
      expect((await readdir(slow.stalled.root)).filter((f) => f.includes('.packpub-'))).toEqual([]);
    });

    it('a manifest or tag page that drips in byte by byte ends at --retry-deadline, the Harbor probe at --request-timeout (a chunk timeout alone never fires)', async () => {
      // A byte every 100 ms: well inside the request timeout of 1 s between chunks, never done by the deadline (the
      // /v2/ probe before it must be answered within that 1 s on a loaded machine: at 0.5 s it could fail there).
      slow.dripped.hostile.behaviour = { dripMs: 100 };
      const flags = ['--registry', slow.dripped.R, '--request-timeout', '1', '--retry-deadline', '2'];
      // The two reads share nothing but the stand-in's behaviour: they wait out their deadlines side by side.
      const [inspect, list] = await Promise.all([runCli(['inspect', 'hello:1.0.0', ...flags]), runCli(['list', 'hello', ...flags])]);
      expect(inspect.code, inspect.stderr).toBe(1);
      expect(inspect.stderr).toMatch(/^error: manifest 1\.0\.0 from 127\.0\.0\.1:\d+ did not arrive within the retry deadline of 2 s$/m);
      expect(stackLines(inspect.stderr)).toEqual([]);
      expect(list.code, list.stderr).toBe(1);
      expect(list.stderr).toMatch(/^error: tags of evil\/spectro-packs\/archive\/hello from 127\.0\.0\.1:\d+ did not arrive within the retry deadline of 2 s$/m);
      expect(list.stdout).toBe('');
    }, 40_000); // a manifest alone would take minutes

    it('upload and manifest answers whose (ignored) bodies drip in do not hold a push', async () => {
      // One answer of each kind drips (an upload start, an upload, the manifest write), each held at most the
      // bounded wait for an ignored body.
      slow.uploads.hostile.behaviour = { dripAnswersMs: 200, dripAnswerKinds: new Set(['upload-start', 'upload', 'manifest']) };
      const pack = await writePack(join(slow.uploads.root, 'drip'), { name: 'hello', version: '1.0.1' });
      const push = await runCli(['push', pack, '--registry', slow.uploads.R, '--request-timeout', '1', '--retry-deadline', '30']);
      expect(push.code, push.stderr).toBe(0);
      const inspect = await runCli(['inspect', 'hello:1.0.1', '--registry', slow.uploads.R]);
      expect(inspect.code, inspect.stderr).toBe(0);
    }, 40_000); // each answer body alone would take 20 s

    it('an error answer whose body drips in is explained with what arrived, without waiting for the rest', async () => {
      slow.errors.hostile.behaviour = { dripErrorsMs: 500 };
      const run = await runCli(['inspect', 'hello:9.9.9', '--registry', slow.errors.R]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/^error: .*9\.9\.9/m);
      expect(stackLines(run.stderr)).toEqual([]);
    }, 20_000); // the body alone would take 35 s
  });
});

describe('a hostile token service', () => {
  const w = helloOnHostile('packpub-hostile-token-', { bearer: {} }, ['--username', 'robot', '--password-stdin'], 'pw-Secret-1');
  // The backoff between attempts is not what these tests are about: it is 50 times shorter (support/clock.ts);
  // attempts and request timeouts stay real.
  hurryRetries();

  const list = (...more: string[]) => runCli(['list', 'hello', '--registry', w.R, '--username', 'robot', '--password-stdin', ...more], { stdin: 'pw-Secret-1' });
  const neitherSecret = async (secret: string) => {
    const debug = await list('--debug'); // debug lines and the stack trace --debug prints hold no secret either
    expect(`${debug.stdout}${debug.stderr}`).not.toContain(secret);
    expect(`${debug.stdout}${debug.stderr}`).not.toContain('pw-Secret-1');
  };

  it('a token with a line break in it is a clear error, and the token is in no output', async () => {
    w.hostile.behaviour = { bearer: { tokenBody: JSON.stringify({ token: 'tok-Secret-2\r\nX-Evil: 1' }) } };
    const run = await list();
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^error: token service 127\.0\.0\.1:\d+ answered a token that cannot be sent in a header/m);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(`${run.stdout}${run.stderr}`).not.toContain('tok-Secret-2');
    await neitherSecret('tok-Secret-2');
  });

  it('a registry that refuses every fresh token gets one retry, then a clear error', async () => {
    w.hostile.behaviour = { bearer: { tokenBody: JSON.stringify({ token: 'tok-Secret-3', expires_in: -5 }) } };
    w.hostile.requests.length = 0;
    const run = await list();
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('error: credentials rejected or no pull permission on evil/spectro-packs/archive/hello');
    expect(stackLines(run.stderr)).toEqual([]);
    expect(w.hostile.requests.length).toBeLessThan(10);
    await neitherSecret('tok-Secret-3');
  });

  it('credentials embedded in the realm URL are neither sent nor printed', async () => {
    w.hostile.behaviour = { bearer: { realm: `http://realm-user:realm-Secret-4@${w.hostile.host}/token` } };
    w.hostile.requests.length = 0;
    const run = await list();
    const out = `${run.stdout}${run.stderr}`;
    expect(out).not.toContain('realm-Secret-4');
    await neitherSecret('realm-Secret-4');
    const tokenAuth = w.hostile.requests.filter((r) => r.path.startsWith('/token')).map((r) => r.authorization);
    expect(tokenAuth.length).toBeGreaterThan(0);
    for (const a of tokenAuth) expect(Buffer.from((a ?? '').replace(/^Basic /, ''), 'base64').toString()).not.toContain('realm-Secret-4');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('hello  1.0.0');
  });

  describe.concurrent('token answers that drip in (each test on a stand-in of its own, side by side)', () => {
    const slow = hellosOnHostile(['token', 'tokenOnce'] as const, 'packpub-hostile-token-', { bearer: {} }, ['--username', 'robot', '--password-stdin'], 'pw-Secret-1');

    it('a token answer that drips in ends at --request-timeout (each attempt), with nothing pushed', async () => {
      slow.token.hostile.behaviour = { bearer: { dripTokenMs: 300 } };
      slow.token.hostile.requests.length = 0;
      const pack = await writePack(join(slow.token.root, 'drip'), { name: 'dripped', version: '1.0.0' });
      // 1 s per attempt, not less: the /v2/ probe before the token must be answered within it on a loaded machine.
      const run = await runCli(['push', pack, '--registry', slow.token.R, '--username', 'robot', '--password-stdin', '--request-timeout', '1', '--retry-attempts', '2'], { stdin: 'pw-Secret-1' });
      slow.token.hostile.behaviour = { bearer: {} };
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/^FAILED dripped:1\.0\.0: token service 127\.0\.0\.1:\d+ did not finish its answer within the request timeout of 1 s$/m);
      expect(stackLines(run.stderr)).toEqual([]);
      expect(slow.token.hostile.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'))).toEqual([]);
    }, 20_000); // the token alone would take 10 s per request

    it('a token answer that drips in once is asked again, as any stalled answer: the push lands', async () => {
      slow.tokenOnce.hostile.behaviour = { bearer: { dripTokenMs: 300, dripTokenTimes: 1 } };
      slow.tokenOnce.hostile.requests.length = 0;
      const pack = await writePack(join(slow.tokenOnce.root, 'drip-once'), { name: 'dripped-once', version: '1.0.0' });
      const run = await runCli(['push', pack, '--registry', slow.tokenOnce.R, '--username', 'robot', '--password-stdin', '--request-timeout', '0.5'], { stdin: 'pw-Secret-1' });
      slow.tokenOnce.hostile.behaviour = { bearer: {} };
      expect(run.code, run.stderr).toBe(0);
      expect(slow.tokenOnce.hostile.requests.filter((r) => r.path === '/token')).not.toHaveLength(1);
      const list = await runCli(['list', 'dripped-once', '--registry', slow.tokenOnce.R, '--username', 'robot', '--password-stdin'], { stdin: 'pw-Secret-1' });
      expect(list.stdout).toContain('dripped-once  1.0.0');
    });
  });
});
