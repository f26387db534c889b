import { createServer } from 'node:http';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { listenOnLoopback, type ListeningServer } from './loopback.js';
import { writePack, writePacks } from './packs.js';
import { startPaletteLab } from './palette-lab.js';
import { sharedProxiedRegistry, type ProxiedRegistry } from './push-setup.js';
import { startRecordingProxy } from './recording-proxy.js';
import type { Stage } from './stage.js';

/*
 * Targets that already hold packs, for tests of what reads or changes them (list, inspect, pull, tag, copy):
 * each pack is written under a temp folder of the test's own and published with an in-process `packpub push`,
 * as a user would have published it.
 */

export interface PackVersion {
  name: string;
  version: string;
}

/** `packpub push` of each pack (written under `root`, in a folder named `<name>-<version>`) to `target` (push's target flags); throws on a failed push. */
export async function publishPacks(root: string, target: string[], packs: PackVersion[]): Promise<void> {
  for (const pack of packs) {
    const dir = await writePack(join(root, `${pack.name}-${pack.version}`), pack);
    const push = await runCli(['push', dir, ...target]);
    if (push.code !== 0) throw new Error(`push of ${pack.name}:${pack.version}: ${push.stderr}`);
  }
}

export interface PublishedRegistry extends ProxiedRegistry {
  /** The test's temp folder (the packs' sources are in it). */
  root: string;
  /** `path` under the base path the worker's shared registry handed the test: every repository it uses goes under one. */
  under: (path: string) => string;
  /** `under('src')`: the base path the packs were pushed under. */
  src: string;
  /** `<proxy host>/<src>`: that base path, reached through the proxy. */
  P: string;
}

/**
 * The worker's shared registry behind a recording proxy of the test's own (sharedProxiedRegistry), holding
 * `packs` under the base path `src` (`under('src')`), pushed past the proxy.
 */
export async function publishedRegistry(stack: Stage, prefix: string, packs: PackVersion[]): Promise<PublishedRegistry> {
  const root = await stack.tempDir(prefix);
  const reg = await sharedProxiedRegistry(stack);
  const under = (path: string): string => `${reg.registry.base}/${path}`;
  const src = under('src');
  await publishPacks(root, ['--registry', `${reg.registry.host}/${src}`], packs);
  return { ...reg, root, under, src, P: `${reg.proxy.host}/${src}` };
}

/** An OCI layout (`<root>/layout`) holding hello 1.0.0. */
export async function publishedLayout(stack: Stage, prefix: string): Promise<{ root: string; layout: string }> {
  const root = await stack.tempDir(prefix);
  const layout = join(root, 'layout');
  await publishPacks(join(root, 'packs'), ['--oci-layout', layout], [{ name: 'hello', version: '1.0.0' }]);
  return { root, layout };
}

/**
 * A Palette lab (startPaletteLab: a registry named `lab` under the base path `under('packs')`, Palette's clock `clock`),
 * hello 1.0.0 written beside it, not yet published, and the environment of a user of that Palette with the API key
 * `key`; `at`: the lab registry's target flags; `packRegistry()`: what the stand-in holds for it (its index, its
 * syncs). `shared`: the lab serves a base path on the worker's shared registry (startPaletteLab's `shared`).
 */
export async function paletteLabWithHello(stack: Stage, prefix: string, key: string, clock: { now(): number }, options: { shared?: boolean } = {}) {
  const lab = await startPaletteLab(stack, { prefix, key, name: 'lab', base: 'packs', clock, ...options });
  const pack = await writePack(join(lab.root, 'hello'), { name: 'hello', version: '1.0.0' });
  const env = { HOME: join(lab.root, 'home'), DOCKER_CONFIG: join(lab.root, 'docker'), SPECTROCLOUD_HOST: lab.palette.url, SPECTROCLOUD_APIKEY: key };
  const packRegistry = () => lab.palette.registries.get(lab.uid);
  return { ...lab, pack, env, at: ['--registry', `${lab.registry.host}/${lab.under('packs')}`], packRegistry };
}

/**
 * A Palette lab on the worker's shared registry (startPaletteLab: a registry `<base>-lab` under `under(base)`,
 * Palette's clock `clock`) whose stand-in a user reaches through a recording proxy (`proxy`: a test makes it
 * answer for Palette), a pack `<base>-<name>` 1.0.0 per name of `names` (default a, b, c) written beside it
 * (`packs.a` ...), not yet published; `env`: a user of that Palette (through the proxy) with the API key `key`;
 * `at`: the registry's target flags.
 */
export async function proxiedPaletteLab<K extends string = 'a' | 'b' | 'c'>(stack: Stage, base: string, key: string, clock: { now(): number }, names: K[] = ['a', 'b', 'c'] as K[]) {
  const lab = await startPaletteLab(stack, { prefix: `packpub-palette-${base}-`, key, name: `${base}-lab`, base, clock, shared: true });
  const proxy = stack.add(await startRecordingProxy(lab.palette.url));
  const packs = await writePacks(lab.root, Object.fromEntries(names.map((n) => [n, `${base}-${n}:1.0.0`])) as Record<K, string>);
  const env = { HOME: join(lab.root, 'home'), DOCKER_CONFIG: join(lab.root, 'docker'), SPECTROCLOUD_HOST: proxy.url, SPECTROCLOUD_APIKEY: key };
  return { ...lab, proxy, packs, env, at: ['--registry', `${lab.registry.host}/${lab.under(base)}`] };
}

/** What `packpub list <target> --json` shows, as sorted `name:version`s; the list must exit 0. */
export async function listedVersions(target: string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const list = await runCli(['list', ...target, '--json'], { env });
  expect(list.code, list.stderr).toBe(0);
  return (JSON.parse(list.stdout) as { packs: { name: string; versions: { version: string }[] }[] }).packs.flatMap((p) => p.versions.map((v) => `${p.name}:${v.version}`)).sort();
}

/** A temp folder of the test's own (`root`) holding hello 1.0.0 at `pack`, not yet published. */
export async function helloPack(stack: Stage): Promise<{ root: string; pack: string }> {
  const root = await stack.tempDir();
  return { root, pack: await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' }) };
}

/** helloPack with the environment of a run that keeps its cache in the temp folder and builds reproducible archives. */
export async function helloPackAndEnv(stack: Stage): Promise<{ root: string; pack: string; env: NodeJS.ProcessEnv }> {
  const hello = await helloPack(stack);
  return { ...hello, env: { PACKPUB_CACHE_DIR: join(hello.root, 'cache'), SOURCE_DATE_EPOCH: '1700000000' } };
}

/**
 * Three packs in a temp folder: `one` and `two` are `name` 1.0.0 with different content (a conflict once one is
 * published), `other` is the pack `other` names.
 */
export async function conflictingPacks(stack: Stage, name: string, other: PackVersion): Promise<{ root: string; one: string; two: string; other: string }> {
  const root = await stack.tempDir();
  return {
    root,
    one: await writePack(join(root, 'one'), { name, version: '1.0.0', files: { 'a.txt': 'one' } }),
    two: await writePack(join(root, 'two'), { name, version: '1.0.0', files: { 'a.txt': 'two' } }),
    other: await writePack(join(root, 'other'), other),
  };
}

/** A server on loopback that takes each request and never answers (a Palette that hangs), and what it was asked. */
export async function silentServer(stack: Stage): Promise<{ silent: ListeningServer; asked: string[] }> {
  const asked: string[] = [];
  const silent = stack.add(await listenOnLoopback(createServer((req) => void asked.push(`${req.method ?? ''} ${req.url ?? ''}`))));
  return { silent, asked };
}
