import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/*
 * A Docker credential helper for tests: `docker-credential-packpubtest` (and any other names asked for)
 * in a temp dir to put first on PATH. It speaks the docker-credential-helpers protocol and keeps its
 * entries in a JSON file, so tests can read what was stored. Set PACKPUB_TEST_HELPER_FAIL=1 in the
 * helper's environment to make it crash, PACKPUB_TEST_HELPER_HANG=1 to make it never answer, and
 * PACKPUB_TEST_HELPER_HANG_CHILD=<file> to make it also start a sleeping child that holds its stdout and
 * stderr (like a helper that runs a pinentry or an agent), writing the child's pid to <file>.
 */

export interface CredHelperFixture {
  dir: string;
  /** Environment with the helper dir first on PATH and the store file set. */
  env: NodeJS.ProcessEnv;
  /** What the helper holds: server URL -> {Username, Secret}. */
  entries(): Promise<Record<string, { Username: string; Secret: string }>>;
  seed(entries: Record<string, { Username: string; Secret: string }>): Promise<void>;
  cleanup(): Promise<void>;
  /** Ids of helper processes still running (read from /proc). */
  running(): Promise<number[]>;
}

const SCRIPT = `
const fs = require('node:fs');
const storePath = process.env.PACKPUB_TEST_HELPER_STORE;
const action = process.argv[2];
const load = () => { try { return JSON.parse(fs.readFileSync(storePath, 'utf8')); } catch { return {}; } };
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const childPidFile = process.env.PACKPUB_TEST_HELPER_HANG_CHILD;
  if (childPidFile) {
    const child = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => undefined, 60000)'], { stdio: ['ignore', 'inherit', 'inherit'] });
    fs.writeFileSync(childPidFile, String(child.pid));
    setInterval(() => undefined, 60000);
    return;
  }
  if (process.env.PACKPUB_TEST_HELPER_HANG === '1') {
    setInterval(() => undefined, 60000);
    return;
  }
  if (process.env.PACKPUB_TEST_HELPER_FAIL === '1') {
    process.stdout.write('the keychain is locked\\n');
    process.exit(3);
  }
  const store = load();
  const server = input.trim();
  if (action === 'get') {
    const e = store[server];
    if (!e) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
    process.stdout.write(JSON.stringify({ ServerURL: server, Username: e.Username, Secret: e.Secret }));
  } else if (action === 'store') {
    const e = JSON.parse(input);
    store[e.ServerURL] = { Username: e.Username, Secret: e.Secret };
    fs.writeFileSync(storePath, JSON.stringify(store));
  } else if (action === 'erase') {
    if (!store[server]) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
    delete store[server];
    fs.writeFileSync(storePath, JSON.stringify(store));
  } else if (action === 'list') {
    const out = {};
    for (const k of Object.keys(store)) out[k] = store[k].Username;
    process.stdout.write(JSON.stringify(out));
  } else {
    process.stdout.write('unknown action ' + action + '\\n');
    process.exit(1);
  }
});
`;

/** Write helper programs named `docker-credential-<name>` for each name (default: packpubtest). */
export async function makeCredHelperFixture(names: string[] = ['packpubtest'], baseEnv: NodeJS.ProcessEnv = process.env): Promise<CredHelperFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'packpub-credhelper-'));
  const storePath = join(dir, 'store.json');
  for (const name of names) {
    const path = join(dir, `docker-credential-${name}`);
    await writeFile(path, `#!${process.execPath}\n${SCRIPT}`);
    await chmod(path, 0o755);
  }
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    PATH: `${dir}${delimiter}${baseEnv['PATH'] ?? ''}`,
    PACKPUB_TEST_HELPER_STORE: storePath,
  };
  return {
    dir,
    env,
    async entries() {
      try {
        return JSON.parse(await readFile(storePath, 'utf8')) as Record<string, { Username: string; Secret: string }>;
      } catch {
        return {};
      }
    },
    async seed(entries) {
      await writeFile(storePath, JSON.stringify(entries));
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
    async running() {
      const pids: number[] = [];
      for (const pid of await readdir('/proc').catch(() => [])) {
        if (!/^\d+$/.test(pid)) continue;
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline.includes(dir)) pids.push(Number(pid));
      }
      return pids;
    },
  };
}
