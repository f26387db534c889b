import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/*
 * A Docker credential helper for tests: `docker-credential-packpubtest` (and any other names asked for)
 * in a temp dir to put first on PATH. It speaks the docker-credential-helpers protocol (get, store, erase)
 * and keeps one file per server in a folder, so tests can read what was stored. Set
 * PACKPUB_TEST_HELPER_FAIL=1 in the helper's environment to make it crash, PACKPUB_TEST_HELPER_HANG=1 to
 * make it never answer, and PACKPUB_TEST_HELPER_HANG_CHILD=<file> to make it also start a sleeping child
 * that holds its stdout and stderr (like a helper that runs a pinentry or an agent), writing the child's
 * pid to <file>. A POSIX shell script: the Node.js one cost ~0.13 CPU-s per call, this one ~0.03.
 */

export interface CredHelperFixture {
  dir: string;
  /** Environment with the helper dir first on PATH and the store folder set. */
  env: NodeJS.ProcessEnv;
  /** What the helper holds: server URL -> {Username, Secret}. */
  entries(): Promise<Record<string, { Username: string; Secret: string }>>;
  seed(entries: Record<string, { Username: string; Secret: string }>): Promise<void>;
  /** What `get` answers from its second call on (once each): a helper that mints a fresh secret when asked again. */
  seedNext(entries: Record<string, { Username: string; Secret: string }>): Promise<void>;
  cleanup(): Promise<void>;
  /** Ids of helper processes still running (read from /proc). */
  running(): Promise<number[]>;
}

/*
 * Each entry is the file <store>/<server URL in hex> holding the JSON that `store` was given
 * ({"ServerURL","Username","Secret"}), which is also what `get` answers. `store` takes the server from
 * that JSON as packpub writes it (JSON.stringify: the URL holds no quote or backslash). A file of the same name in
 * <store>.next (seedNext) replaces the entry once `get` has answered it: the next `get` gets the new secret.
 */
const SCRIPT = String.raw`#!/bin/sh
store=$PACKPUB_TEST_HELPER_STORE
if [ -n "$PACKPUB_TEST_HELPER_HANG_CHILD" ]; then
  sleep 600 </dev/null &
  echo $! > "$PACKPUB_TEST_HELPER_HANG_CHILD"
  wait
  exit 0
fi
input=$(cat)
if [ "$PACKPUB_TEST_HELPER_HANG" = 1 ]; then
  sleep 600 </dev/null >/dev/null 2>&1
  exit 0
fi
if [ "$PACKPUB_TEST_HELPER_FAIL" = 1 ]; then
  echo 'the keychain is locked'
  exit 3
fi
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
case "$1" in
  get|erase)
    file="$store/$(hex "$(printf '%s' "$input" | tr -d ' \t\r\n')")"
    if [ ! -f "$file" ]; then echo 'credentials not found in native keychain'; exit 1; fi
    if [ "$1" = get ]; then
      cat "$file"
      next="$store.next/$(basename "$file")"
      if [ -f "$next" ]; then mv "$next" "$file"; fi
    else rm "$file"; fi ;;
  store)
    server=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
    mkdir -p "$store"
    printf '%s' "$input" > "$store/$(hex "$server")" ;;
  *)
    echo "unknown action $1"
    exit 1 ;;
esac
`;

/** Write helper programs named `docker-credential-<name>` for each name (default: packpubtest). */
export async function makeCredHelperFixture(names: string[] = ['packpubtest'], baseEnv: NodeJS.ProcessEnv = process.env): Promise<CredHelperFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'packpub-credhelper-'));
  const storePath = join(dir, 'store');
  for (const name of names) {
    const path = join(dir, `docker-credential-${name}`);
    await writeFile(path, SCRIPT);
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
      const out: Record<string, { Username: string; Secret: string }> = {};
      for (const name of await readdir(storePath).catch(() => [])) {
        const { ServerURL, Username, Secret } = JSON.parse(await readFile(join(storePath, name), 'utf8')) as { ServerURL: string; Username: string; Secret: string };
        out[ServerURL] = { Username, Secret };
      }
      return out;
    },
    async seed(entries) {
      await rm(storePath, { recursive: true, force: true });
      await mkdir(storePath);
      for (const [ServerURL, { Username, Secret }] of Object.entries(entries)) {
        await writeFile(join(storePath, Buffer.from(ServerURL).toString('hex')), JSON.stringify({ ServerURL, Username, Secret }));
      }
    },
    async seedNext(entries) {
      const next = `${storePath}.next`;
      await mkdir(next, { recursive: true });
      for (const [ServerURL, { Username, Secret }] of Object.entries(entries)) {
        await writeFile(join(next, Buffer.from(ServerURL).toString('hex')), JSON.stringify({ ServerURL, Username, Secret }));
      }
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
