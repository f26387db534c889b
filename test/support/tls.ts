import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { runChild, type ChildFailure } from './spawner.js';
import { isRunDir } from './test-tmpdir.js';


/** A throwaway CA and a server certificate it signed, as PEM files in a temp dir. */
export interface TestCertificates {
  dir: string;
  /** CA certificate (what `--ca-file` takes). */
  caFile: string;
  /** Server certificate and its key (what the registry serves). */
  certFile: string;
  keyFile: string;
  /** The names and IPs in the server certificate's subjectAltName. */
  hosts: string[];
  cleanup(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await runChild('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as Partial<ChildFailure>).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`);
  }
}

/*
 * Certificates made once per test run (issue 11). Each set costs three openssl processes (~0.1 CPU-s);
 * the suite asked for ~20 sets and ~10 client certificates, one test file after another in the same few
 * workers. The sets are kept in the run's own temp folder (support/test-tmpdir.ts: removed at the end of the
 * run), where every worker of the run finds them (without that folder, in a folder of the worker's own), and
 * handed out again to later files: the n-th set a test file asks for (per list of hosts) is the run's n-th
 * (test/per-file-setup.ts starts the count again for each file), so the sets one file holds are as distinct
 * from each other as freshly made ones (other CAs, other keys): none is handed twice within a file. A set is
 * made in a folder of its own and renamed into place when complete; two workers making the same one at
 * once keep the first renamed. Each call gets copies of the files in a new folder (a test may write beside
 * them, cleanup() removes only the copies). A client certificate is kept with its set, by name and kind.
 */
interface MadeSet {
  dir: string;
  clients: Map<string, Promise<string>>;
}
const made = new Map<string, Array<Promise<MadeSet> | undefined>>();
let madeRoot: Promise<string> | undefined;
/** The folder of the worker's own, when there is no run folder (removed when the worker exits normally). */
let ownMadeDir: string | undefined;
process.once('exit', () => {
  if (ownMadeDir !== undefined) rmSync(ownMadeDir, { recursive: true, force: true });
});
/** How many sets of each list of hosts the current test file got. */
const handed = new Map<string, number>();

/** A new test file starts: its first set is the run's first again (test/per-file-setup.ts). */
export function newFileForCertificates(): void {
  handed.clear();
}
/** The set each copy came from (by the copy's folder). */
const sourceOf = new Map<string, MadeSet>();
const SET_FILES = ['ca.pem', 'ca.key', 'server.pem', 'server.key'];

/** Where the made certificates are kept: the run's folder, else one of this worker's own. */
function madeFolder(): Promise<string> {
  madeRoot ??= (async () => {
    if (!isRunDir(tmpdir())) return (ownMadeDir = await mkdtemp(join(tmpdir(), 'packpub-tls-made-')));
    const dir = join(tmpdir(), 'packpub-tls-made');
    await mkdir(dir, { recursive: true });
    return dir;
  })();
  return madeRoot;
}

/** `<root>/<name>`, made by `make` in a folder of its own and renamed into place, unless it is there already. */
async function madeOnce(root: string, name: string, make: (dir: string) => Promise<void>): Promise<string> {
  const done = join(root, name);
  if (existsSync(done)) return done;
  const making = await mkdtemp(join(root, '.making-'));
  try {
    await make(making);
    await rename(making, done);
  } catch (err) {
    await rm(making, { recursive: true, force: true });
    // Another worker renamed its copy into place first: that one is used.
    if (existsSync(done)) return done;
    throw err;
  }
  return done;
}

/**
 * The run's folder `name` (kept where the made certificates are), made by `make` in a folder of its own when
 * no worker of the run made it yet: for other fixtures that every worker would otherwise make again.
 */
export async function madeForRun(name: string, make: (dir: string) => Promise<void>): Promise<string> {
  return madeOnce(await madeFolder(), name, make);
}

const nameOf = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16);

/** Make a CA and a server certificate for `hosts` in `dir` with the `openssl` CLI. */
async function makeSet(dir: string, hosts: string[]): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=packpub test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  await openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${hosts[0] ?? 'localhost'}`], dir);
  const san = hosts.map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? `IP:${h}` : `DNS:${h}`)).join(',');
  await writeFile(
    join(dir, 'server.ext'),
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  await openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem',
      '-days', '2', '-extfile', 'server.ext'],
    dir,
  );
}

/** The run's `index`-th set for `hosts`, made when asked for the first time. */
function madeSet(hosts: string[], index: number): Promise<MadeSet> {
  const key = hosts.join(',');
  const sets = made.get(key) ?? [];
  made.set(key, sets);
  let set = sets[index];
  if (set === undefined) {
    set = (async () => ({ dir: await madeOnce(await madeFolder(), `${nameOf(key)}-${index}`, (dir) => makeSet(dir, hosts)), clients: new Map() }))();
    // A failed make is not kept: the next file asking makes it again.
    set.catch(() => {
      if (sets[index] === set) sets[index] = undefined;
    });
    sets[index] = set;
  }
  return set;
}

/**
 * A private CA and a server certificate for `hosts` (default 127.0.0.1 and localhost), made with the
 * `openssl` CLI, EC P-256 keys, valid for two days, as PEM files in a new temp folder (see above: made once
 * per worker). Call cleanup() in afterAll.
 */
export async function makeTestCertificates(options: { hosts?: string[] } = {}): Promise<TestCertificates> {
  const hosts = options.hosts ?? ['127.0.0.1', 'localhost'];
  const key = hosts.join(',');
  const index = handed.get(key) ?? 0;
  handed.set(key, index + 1);
  const set = await madeSet(hosts, index);
  const dir = await mkdtemp(join(tmpdir(), 'packpub-tls-'));
  try {
    for (const name of SET_FILES) await copyFile(join(set.dir, name), join(dir, name));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  sourceOf.set(dir, set);
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    hosts,
    cleanup: async () => {
      sourceOf.delete(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A client certificate (mTLS) signed by the CA of `certs`, as PEM files in its dir. */
export interface ClientCertificate {
  certFile: string;
  keyFile: string;
}

/**
 * A client certificate for `name` (extendedKeyUsage clientAuth, as Go's server checks) signed by the
 * throwaway CA of `certs`; `selfSigned` makes one no registry trusts. Made once per worker with the set
 * `certs` is a copy of, and copied into `certs.dir`.
 */
export async function makeClientCertificate(certs: TestCertificates, name: string, options: { selfSigned?: boolean } = {}): Promise<ClientCertificate> {
  const set = sourceOf.get(certs.dir);
  const selfSigned = options.selfSigned === true;
  if (set === undefined) {
    await makeClient(certs.dir, name, selfSigned);
  } else {
    const key = `${name}\0${selfSigned}`;
    let client = set.clients.get(key);
    if (client === undefined) {
      // Made beside a copy of the set's CA (openssl writes its serial file next to the CA).
      client = madeOnce(dirname(set.dir), `${basename(set.dir)}-client-${nameOf(key)}`, async (dir) => {
        for (const file of ['ca.pem', 'ca.key']) await copyFile(join(set.dir, file), join(dir, file));
        await makeClient(dir, name, selfSigned);
      });
      client.catch(() => set.clients.delete(key));
      set.clients.set(key, client);
    }
    const dir = await client;
    for (const ext of ['pem', 'key']) await copyFile(join(dir, `${name}.${ext}`), join(certs.dir, `${name}.${ext}`));
  }
  return { certFile: join(certs.dir, `${name}.pem`), keyFile: join(certs.dir, `${name}.key`) };
}

/** Make the client certificate `name` in `dir`, signed by its CA unless `selfSigned`. */
async function makeClient(dir: string, name: string, selfSigned: boolean): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ext = `${name}.ext`;
  await writeFile(join(dir, ext), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  if (selfSigned) {
    await openssl(['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'extendedKeyUsage=clientAuth'], dir);
  } else {
    await openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', ext], dir);
  }
}
