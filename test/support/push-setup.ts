import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RACY_MARGIN_MS } from '../../src/archive/walk.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';
import { layoutHoldings, RegistryReader } from './registry-reader.js';
import { sharedRegistry, startRegistry, type RegistryOnDisk, type RunningRegistry, type SharedRegistry, type SharedRegistryOptions, type StartRegistryOptions } from './registry.js';
import { generatePacks, writePack, type GeneratedPack, type GenerateOptions } from './packs.js';
import type { Stage } from './stage.js';
import { startTokenServer, type TokenServer } from './token-server.js';

/*
 * The world most publishing tests need, set up in one call and torn down with their Stage:
 *
 *   const stack = stage();
 *   let reg: ProxiedRegistry;
 *   let work: PackTree;
 *   beforeAll(async () => {
 *     reg = await proxiedRegistry(stack);                          // push through reg.proxy, check with reg.reader
 *     work = await packTree(stack, 10, { seed: 12, prefix: 'sig' }); // spawnCli(['push', work.tree, ...], { env: work.env })
 *   });
 */

export interface ProxiedRegistry {
  registry: RunningRegistry;
  /** Counts requests and injects faults; push through `proxy.host`. */
  proxy: RecordingProxy;
  /** Reads the registry directly, past the proxy and without packpub. */
  reader: RegistryReader;
}

/** A real registry (plain HTTP, anonymous unless `options` say otherwise) behind a recording proxy. */
export async function proxiedRegistry(stack: Stage, options: StartRegistryOptions = {}): Promise<ProxiedRegistry> {
  const registry = stack.add(await startRegistry(options));
  const proxy = stack.add(await startRecordingProxy(registry.host));
  return { registry, proxy, reader: new RegistryReader(registry.url) };
}

/** The same in front of this worker's shared registry (sharedRegistry): keep every repository under `registry.base`. */
export async function sharedProxiedRegistry(stack: Stage, options: SharedRegistryOptions = {}): Promise<ProxiedRegistry & { registry: SharedRegistry }> {
  const registry = await sharedRegistry(options);
  const proxy = stack.add(await startRecordingProxy(registry.host));
  return { registry, proxy, reader: new RegistryReader(registry.url) };
}

export interface PackTree {
  /** The temp folder of this tree; anything else the test writes can go here too. */
  root: string;
  /** The folder holding the packs, for `push <tree> --recursive`. */
  tree: string;
  packs: GeneratedPack[];
  /** Environment for CLI runs: fixed SOURCE_DATE_EPOCH (same manifests every run), a cache and TMPDIR of its own. */
  env: NodeJS.ProcessEnv;
}

/** `count` generated packs (see generatePacks) in a temp folder closed with the stage. */
export async function packTree(stack: Stage, count: number, options: GenerateOptions = {}): Promise<PackTree> {
  const root = await stack.tempDir(`packpub-${options.prefix ?? 'gen'}-`);
  const tree = join(root, 'tree');
  const packs = await generatePacks(tree, count, options);
  // Temp files of killed runs land in a folder of the test's own.
  await mkdir(join(root, 'tmp'));
  return { root, tree, packs, env: { SOURCE_DATE_EPOCH: '1700000000', TMPDIR: join(root, 'tmp'), PACKPUB_CACHE_DIR: join(root, 'cache') } };
}

/**
 * `count` generated packs, as packTree, written long enough ago (settledPastRacyMargin) that a push records
 * their folders in its cache: a re-run then finds them unchanged without reading them.
 */
export async function settledPackTree(stack: Stage, count: number, options: GenerateOptions = {}): Promise<PackTree> {
  const work = await packTree(stack, count, options);
  await settledPastRacyMargin(work.tree);
  return work;
}

/** A settled tree (settledPackTree) beside the worker's shared registry, for a push and its re-run. */
export interface RerunTree {
  registry: SharedRegistry;
  work: PackTree;
  /** `push <tree> --recursive --json` to the shared registry, under the file's base path (and `sub` below it). */
  pushArgs: (sub?: string) => string[];
}

export async function rerunTree(stack: Stage, count: number, options: GenerateOptions = {}): Promise<RerunTree> {
  const registry = await sharedRegistry();
  const work = await settledPackTree(stack, count, options);
  const pushArgs = (sub?: string) => ['push', work.tree, '--recursive', '--registry', `${registry.host}/${registry.base}${sub === undefined ? '' : `/${sub}`}`, '--json'];
  return { registry, work, pushArgs };
}

/** The status of each result of a push's `--json` report, in order. */
export function pushStatuses(stdout: string): string[] {
  return (JSON.parse(stdout) as { results: Array<{ status: string }> }).results.map((r) => r.status);
}

/**
 * Wait until everything under `dir` was last changed (mtime or ctime) more than the walk's racy margin ago
 * (src/archive/walk.ts RACY_MARGIN_MS). Only then does a push record the stat signatures that let the next
 * run know a folder is unchanged without reading it; a pack written just before a push is, by design, read
 * again on the next run. The wait ends at a point computed from the files' own times, not a fixed delay.
 */
export async function settledPastRacyMargin(dir: string): Promise<void> {
  let newest = 0;
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path);
    newest = Math.max(newest, st.mtimeMs, st.ctimeMs);
    if (st.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(dir);
  const wait = newest + RACY_MARGIN_MS + 20 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

export interface TwoRegistries {
  tokens: TokenServer;
  /** Token auth from `tokens`, like Harbor. */
  harbor: RunningRegistry;
  /** htpasswd Basic auth, behind `proxy`: the worker's shared one (sharedRegistry), keep repositories under `basic.base`. */
  basic: SharedRegistry;
  proxy: RecordingProxy;
}

/**
 * Two real registries, as a release or a promotion meets them: a Harbor-like one of its own (a promotion
 * lists its catalog) and the worker's shared Basic-auth one behind a recording proxy of its own.
 */
export async function harborAndBasic(stack: Stage, harborUsers: Record<string, string>, basicUsers: Record<string, string>): Promise<TwoRegistries> {
  const tokens = stack.add(await startTokenServer({ users: harborUsers }));
  const harbor = stack.add(await startRegistry({ auth: 'token', token: tokens }));
  const basic = await sharedRegistry({ auth: 'htpasswd', users: basicUsers });
  const proxy = stack.add(await startRecordingProxy(basic.host));
  return { tokens, harbor, basic, proxy };
}

export interface AuthRegistry<R extends RunningRegistry = RunningRegistry> {
  registry: R;
  /** The token service, for mode 'token'. */
  tokens: TokenServer | undefined;
}

type AuthMode = 'anonymous' | 'htpasswd' | 'token';

/** The same on this worker's shared registry of that mode (sharedRegistry; token: a token server of the file's own on the shared realm): keep repositories under `registry.base`. */
export async function sharedRegistryWith(stack: Stage, mode: AuthMode, users: Record<string, string>): Promise<AuthRegistry<SharedRegistry>> {
  if (mode === 'token') {
    const tokens = stack.add(await startTokenServer({ users, sharedRealm: true }));
    return { registry: await sharedRegistry({ auth: 'token', token: tokens }), tokens };
  }
  return { registry: await sharedRegistry(mode === 'htpasswd' ? { auth: 'htpasswd', users } : {}), tokens: undefined };
}

/** A real registry that lets `users` in: anonymous (no auth), htpasswd Basic, or token auth like Harbor's; on disk with `storage: 'filesystem'`. */
export function registryWith(stack: Stage, mode: AuthMode, users: Record<string, string>, options: { storage: 'filesystem' }): Promise<AuthRegistry<RegistryOnDisk>>;
export function registryWith(stack: Stage, mode: AuthMode, users: Record<string, string>): Promise<AuthRegistry>;
export async function registryWith(stack: Stage, mode: AuthMode, users: Record<string, string>, options: { storage?: 'filesystem' } = {}): Promise<AuthRegistry<RunningRegistry | RegistryOnDisk>> {
  const storage = options.storage === undefined ? {} : { storage: options.storage };
  if (mode === 'token') {
    const tokens = stack.add(await startTokenServer({ users }));
    return { registry: stack.add(await startRegistry({ auth: 'token', token: tokens, ...storage })), tokens };
  }
  return { registry: stack.add(await startRegistry(mode === 'htpasswd' ? { auth: 'htpasswd', users, ...storage } : storage)), tokens: undefined };
}

/** A pack `name` at each of `versions` (a folder named by the version under `root`), and the worker's shared registry. */
export async function packVersions(stack: Stage, prefix: string, name: string, versions: string[]): Promise<{ registry: SharedRegistry; root: string }> {
  const root = await stack.tempDir(prefix);
  const registry = await sharedRegistry();
  for (const version of versions) await writePack(join(root, version), { name, version });
  return { registry, root };
}

/** A target a case runs on: its name, the flags that name it, and the tags it holds afterwards (name:tag -> manifest digest). */
export type CheckedTarget = [what: string, flags: () => string[], tags: () => Promise<Map<string, string>>];

/**
 * The two kinds of target a command is checked on, read afterwards by what each holds: `world`'s registry under
 * its base path (and `sub` below it) and an OCI layout at `layout` under its root. Evaluated when a case runs
 * (`world` is a setup() world, built before the first test).
 */
export function registryAndLayout(world: { registry: SharedRegistry; root: string }, sub?: string): CheckedTarget[] {
  const base = () => (sub === undefined ? world.registry.base : `${world.registry.base}/${sub}`);
  const layout = () => join(world.root, 'layout');
  return [
    ['a registry', () => ['--registry', `${world.registry.host}/${base()}`], () => new RegistryReader(world.registry.url).tagDigests(base())],
    ['an OCI layout', () => ['--oci-layout', layout()], async () => (await layoutHoldings(layout())).tags],
  ];
}
