import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import { isPackpubError } from '../../src/index.js';
import { writePack } from '../support/packs.js';
import { startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * review28 (s34): a JavaScript program (no types at run time) calling the library with a mistake in its options got
 * something else than it asked for, or a bare TypeError: `pushPacks(target, { packs, dryrun: true })` (misspelt)
 * published; `openTarget({ ocilayout: dir })` opened ./oci-packs in the working folder; `force: 'false'` was read as
 * true; `packs: 'dir'`, no options, `onEvent: 'x'` or `signal: {}` rejected with "options.packs.map is not a
 * function" and the like, no `code`. Now each operation index.ts exports checks its arguments first: a USAGE
 * PackpubError (a rejected promise), nothing written.
 */

// A JavaScript caller: the options as any value.
type Loose = Record<string, unknown>;
const push = lib.pushPacks as (target: unknown, options?: unknown) => Promise<lib.PushReport>;
const open = lib.openTarget as (options: unknown) => Promise<lib.PackTarget>;

async function refusal(call: () => Promise<unknown>): Promise<{ code: string; message: string; hint: string | undefined }> {
  const err = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPackpubError(err)) throw new Error(`expected a PackpubError, got ${String(err)}`);
  return { code: err.code, message: err.message, hint: err.hint };
}

describe('the library refuses options a JavaScript program got wrong, before any work', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-lib-options-');
    const pack = await writePack(join(root, 'pack'), { name: 'lib-opts', version: '1.0.0' });
    const layout = join(root, 'layout');
    const target = await lib.openTarget({ ociLayout: layout });
    stack.defer(() => target.store.close());
    return { root, pack, layout, target };
  });

  const layoutEntries = () => readdir(w.layout).catch(() => [] as string[]);

  it.each<[string, Loose, string, string | undefined]>([
    ['a misspelt dryRun (was: published)', { dryrun: true }, 'pushPacks: unknown option "dryrun"', 'did you mean "dryRun"?'],
    ['force given as the string "false" (was: read as true)', { force: 'false' }, 'pushPacks: option force must be true or false, not the string "false"', undefined],
    ['concurrency given as the string "2"', { concurrency: '2' }, 'pushPacks: option concurrency must be a number, not the string "2"', undefined],
    ['onEvent not a function (was: "emit is not a function")', { onEvent: 'log' }, 'pushPacks: option onEvent must be a function, not the string "log"', undefined],
    ['a signal that is none (was: "addEventListener is not a function")', { signal: {} }, 'pushPacks: option signal must be an AbortSignal, not an object', undefined],
    ['an unknown option', { colour: 'blue' }, 'pushPacks: unknown option "colour"', 'the options it takes: packs, force, skipExisting, dryRun, strict, continueOnError, failFast, concurrency, extraTags, allowOtherVersion, annotations, created, mtime, cacheDir, checksAhead, env, onEvent, signal'],
  ])('pushPacks with %s: USAGE, the layout untouched', async (_, extra, message, hint) => {
    const r = await refusal(() => push(w.target, { packs: [w.pack], ...extra }));
    expect(r).toEqual({ code: 'USAGE', message, hint });
    expect(await layoutEntries()).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['packs as one string (was: "options.packs.map is not a function")', { packs: 'pack' }, 'pushPacks: option packs must be an array of strings, not the string "pack"'],
    ['no packs (was: "reading \'length\'")', {}, 'pushPacks: option packs is required'],
    ['no options at all (was: "reading \'onEvent\'")', undefined, 'pushPacks: its options must be an object, not undefined'],
  ])('pushPacks with %s: USAGE', async (_, options, message) => {
    expect((await refusal(() => push(w.target, options))).message).toBe(message);
    expect(await layoutEntries()).toEqual([]);
  });

  it('pushPacks given no target (the options first): USAGE naming openTarget', async () => {
    expect((await refusal(() => push({ packs: [w.pack] }))).message).toBe('pushPacks: the target must be a target that openTarget returned, not an object');
  });

  it('openTarget with a misspelt ociLayout (was: ./oci-packs in the working folder): USAGE, did you mean', async () => {
    expect(await refusal(() => open({ ocilayout: join(w.root, 'elsewhere') }))).toEqual({ code: 'USAGE', message: 'openTarget: unknown option "ocilayout"', hint: 'did you mean "ociLayout"?' });
  });

  it('the other operations: listPacks, copyPacks, pullPack, tagPack, validatePack, discoverPacks, buildPack, inspectPack, planDelete, applyDelete, login, logout, initPack', async () => {
    const any = lib as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const ref = { name: 'lib-opts', version: '1.0.0' };
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => any['listPacks']!(w.target, { detail: true }), 'listPacks: unknown option "detail"'],
      [() => any['copyPacks']!(w.target, w.target, { dryRun: 1 }), 'copyPacks: option dryRun must be true or false, not the number 1'],
      [() => any['copyPacks']!(w.target, undefined), 'copyPacks: the destination must be a target that openTarget returned, not undefined'],
      [() => any['pullPack']!(w.target, 'lib-opts:1.0.0'), "pullPack: the pack must be { name, version } (parsePackRef('name:version') gives one)"],
      [() => any['pullPack']!(w.target, ref, { outdir: w.root }), 'pullPack: unknown option "outdir"'],
      [() => any['tagPack']!(w.target, ref, 'stable'), 'tagPack: the tags must be an array of strings'],
      [() => any['validatePack']!(w.pack, { strict: 'yes' }), 'validatePack: option strict must be true or false, not the string "yes"'],
      [() => any['validatePack']!(undefined), 'validatePack: the pack folder must be a string'],
      [() => any['discoverPacks']!('packs'), 'discoverPacks: the folders must be an array of strings'],
      [() => any['discoverPacks']!([w.root], { recurse: true }), 'discoverPacks: unknown option "recurse"'],
      [() => any['buildPack']!(w.pack, { outfile: 'x.tgz' }), 'buildPack: unknown option "outfile"'],
      [() => any['inspectPack']!(w.target, 'lib-opts:1.0.0'), "inspectPack: the pack must be { name, version } (parsePackRef('name:version') gives one)"],
      [() => any['planDelete']!(w.target, [ref], { ignoremissing: true }), 'planDelete: unknown option "ignoremissing"'],
      [() => any['planDelete']!(w.target, ['lib-opts:1.0.0']), "planDelete: the pack must be { name, version } (parsePackRef('name:version') gives one)"],
      [() => any['applyDelete']!(w.target, {}), 'applyDelete: the plan must be what planDelete returned'],
      [() => any['login']!({ host: '127.0.0.1:1', user: 'alice', password: 'pw' }), 'login: unknown option "user"'],
      [() => any['logout']!({}), 'logout: option host is required'],
      [() => any['initPack']!({ dir: join(w.root, 'init'), name: 'x', versoin: '1.0.0' }), 'initPack: unknown option "versoin"'],
    ];
    for (const [call, message] of cases) expect((await refusal(call)).message).toBe(message);
    expect(await layoutEntries()).toEqual([]);
    expect(await readdir(w.root).then((names) => names.includes('init'))).toBe(false);
  });

  it('applyDelete given { dryRun: true }, an option it does not have (was: deleted the version): refused, the version still there', async () => {
    const root = join(w.root, 'delete-layout');
    const target = await lib.openTarget({ ociLayout: root });
    try {
      expect((await lib.pushPacks(target, { packs: [w.pack] })).summary.published).toBe(1);
      const plan = await lib.planDelete(target, [{ name: 'lib-opts', version: '1.0.0' }]);
      const r = await refusal(() => (lib.applyDelete as (...args: unknown[]) => Promise<unknown>)(target, plan, { dryRun: true }));
      expect(r).toEqual({ code: 'USAGE', message: 'applyDelete: unknown option "dryRun"', hint: 'the options it takes: signal, onResult' });
      expect((await lib.listPacks(target)).map((p) => p.versions.map((v) => v.version))).toEqual([['1.0.0']]);
    } finally {
      await target.store.close();
    }
  });

  it('a right call still works, and an option given as undefined is left out as the types allow', async () => {
    const report = await lib.pushPacks(w.target, { packs: [w.pack], dryRun: true, force: undefined });
    expect(report.summary.planned).toBe(1);
    const listed = await lib.listPacks(w.target, { name: undefined });
    expect(listed).toEqual([]);
  });

  // An async listener's rejection (the third case) was an unhandled rejection, which ends a Node program, and the push resolved.
  it.each([
    ['', 'pack-start'],
    ['', 'pack-done'],
    ['async ', 'pack-done'],
  ])('an %sonEvent listener that throws at "%s": the push goes on as asked, then rejects with ListenerFailed holding the report (was at pack-done: the listener\'s own error, no report, the version published)', async (async, at) => {
    const layout = join(w.root, `listener-${async}${at}`);
    const target = await lib.openTarget({ ociLayout: layout });
    const bug = (type: string): void => {
      if (type === at) throw new Error('the program\'s bug');
    };
    try {
      const err = await lib
        .pushPacks(target, {
          packs: [w.pack],
          onEvent: async === '' ? (e) => bug(e.type) : async (e) => bug((await Promise.resolve(e)).type),
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(lib.ListenerFailed);
      const failed = err as lib.ListenerFailed<lib.PushReport>;
      expect(failed.code).toBe('USAGE');
      expect(failed.message).toBe(`pushPacks: its onEvent listener threw at the "${at}" event: the program's bug`);
      expect(failed.report.results.map((r) => r.status)).toEqual(['published']);
      const listed = await lib.listPacks(target);
      expect(listed.map((p) => `${p.name}:${p.versions.map((v) => v.version).join(',')}`)).toEqual(['lib-opts:1.0.0']);
    } finally {
      await target.store.close();
    }
  });
});

describe('the Palette operations refuse a misspelt option before asking Palette anything', () => {
  // An endpoint where nothing answers: a request made would fail with NETWORK, not USAGE.
  const client = () => new lib.PaletteClient({ apiKey: 'k', endpoint: 'http://127.0.0.1:1' });
  const registry = { host: 'harbor.example.com', basePath: 'spectro' };
  const any = lib as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;

  it.each<[string, () => Promise<unknown>, string, string | undefined]>([
    // Was: ignored, no forced sync (a replaced version never re-read by Palette).
    ['syncPaletteRegistry', () => any['syncPaletteRegistry']!(client(), registry, { packs: [], forse: true }), 'syncPaletteRegistry: unknown option "forse"', 'did you mean "force"?'],
    ['syncPaletteRegistry', () => any['syncPaletteRegistry']!(client(), 'harbor.example.com/spectro', { packs: [] }), 'syncPaletteRegistry: the registry must be { host, basePath } (as the target\'s)', undefined],
    // Was: ignored, the registry registered with certificate checks on.
    ['registerPaletteRegistry', () => any['registerPaletteRegistry']!(client(), registry, { credentials: { kind: 'none' }, insecureskipverify: true }), 'registerPaletteRegistry: unknown option "insecureskipverify"', 'did you mean "insecureSkipVerify"?'],
    ['paletteDoctor', () => any['paletteDoctor']!({ target: registry, registy: 'x' }), 'paletteDoctor: unknown option "registy"', 'did you mean "registry"?'],
    // review36: the Palette helpers index.ts exports beside them checked nothing. Was: a NETWORK error (asked Palette), or
    // a TypeError ("Cannot read properties of undefined (reading 'trim')", "... 'whileNotAborted'"), or a sync of names undefined.
    ['resolvePaletteRegistry', () => any['resolvePaletteRegistry']!(client(), 'harbor.example.com/spectro'), "resolvePaletteRegistry: the registry must be { host, basePath } (as the target's)", undefined],
    ['resolvePaletteRegistry', () => any['resolvePaletteRegistry']!(client(), registry, { registy: 'x' }), 'resolvePaletteRegistry: unknown option "registy"', 'did you mean "registry"?'],
    ['paletteRegistryBeforePublish', () => any['paletteRegistryBeforePublish']!(client(), { host: '', basePath: 'spectro' }), "paletteRegistryBeforePublish: the registry must be { host, basePath } (as the target's)", undefined],
    ['syncPaletteRegistry', () => any['syncPaletteRegistry']!(undefined, registry, { packs: [] }), 'syncPaletteRegistry: its first argument must be a PaletteClient (new PaletteClient({ apiKey, endpoint }))', undefined],
    ['syncPaletteRegistry', () => any['syncPaletteRegistry']!(client(), registry, { packs: ['hello:1.0.0'] }), 'syncPaletteRegistry: option packs must be an array of { name, version } (each a non-empty string)', undefined],
    ['planPaletteSync', () => any['planPaletteSync']!(client(), registry, { packs: 'hello:1.0.0' }), 'planPaletteSync: option packs must be an array of { name, version } (each a non-empty string)', undefined],
    ['new PaletteClient', async () => new (lib.PaletteClient as unknown as new (o: unknown) => unknown)({ endpoint: 'http://127.0.0.1:1' }), 'new PaletteClient: option apiKey is required', undefined],
    // Was: ignored, every pack read at tenant scope.
    ['new PaletteClient', async () => new (lib.PaletteClient as unknown as new (o: unknown) => unknown)({ apiKey: 'k', projectUID: 'p-1' }), 'new PaletteClient: unknown option "projectUID"', 'did you mean "projectUid"?'],
  ])('%s: USAGE', async (_, call, message, hint) => {
    expect(await refusal(call)).toEqual({ code: 'USAGE', message, hint });
  });
});

describe('copyPacks with an onEvent listener that throws', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-lib-copy-listener-');
    const pack = await writePack(join(root, 'pack'), { name: 'lib-copy', version: '1.0.0' });
    const from = await lib.openTarget({ ociLayout: join(root, 'from') });
    stack.defer(() => from.store.close());
    expect((await lib.pushPacks(from, { packs: [pack] })).summary.published).toBe(1);
    return { root, from };
  });

  it('at "pack-done": the copy is made, then the promise rejects with ListenerFailed holding the report', async () => {
    const to = await lib.openTarget({ ociLayout: join(w.root, 'to') });
    try {
      const onEvent = (e: lib.CopyEvent) => {
        if (e.type === 'pack-done') throw new Error('the program\'s bug');
      };
      const err = await lib.copyPacks(w.from, to, { all: true, onEvent }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(lib.ListenerFailed);
      const failed = err as lib.ListenerFailed<lib.CopyReport>;
      expect(failed.message).toBe('copyPacks: its onEvent listener threw at the "pack-done" event: the program\'s bug');
      expect(failed.report.results.map((r) => r.status)).toEqual(['copied']);
      expect((await lib.listPacks(to)).map((p) => `${p.name}:${p.versions.map((v) => v.version).join(',')}`)).toEqual(['lib-copy:1.0.0']);
    } finally {
      await to.store.close();
    }
  });

  // review29 (s34): tagPack named the event by String(outcome), a TagOutcome object: 'threw at the "[object Object]" event'.
  it('tagPack with an onTag listener that throws: the tag is written, then ListenerFailed names what was done to which tag', async () => {
    const ref = { name: 'lib-copy', version: '1.0.0' };
    const onTag = () => {
      throw new Error('the program\'s bug');
    };
    const err = await lib.tagPack(w.from, ref, ['stable'], { onTag }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(lib.ListenerFailed);
    const failed = err as lib.ListenerFailed<lib.TagResult>;
    expect(failed.code).toBe('USAGE');
    expect(failed.message).toBe('tagPack: its onTag listener threw at the "tagged stable" event: the program\'s bug');
    expect(failed.report.tags).toEqual([{ tag: 'stable', status: 'tagged' }]);
    // The layout holds the tag: tagging again finds it there.
    expect((await lib.tagPack(w.from, ref, ['stable'])).tags).toEqual([{ tag: 'stable', status: 'already' }]);
  });
});

describe('a library push or build whose own places lie in the pack folder it packs', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-lib-in-pack-');
    const pack = await writePack(join(root, 'pack'), { name: 'lib-inpack', version: '1.0.0' });
    return { root, pack, before: (await readdir(pack)).sort() };
  });

  // Was: the second push of the unchanged pack published the layout (or the cache's index) inside the pack, exit 0
  // (overwritten with force; a conflict without); the CLI refused both.
  it.each<[string, (pack: string, root: string) => { layout: string; cacheDir?: string }, string]>([
    ['an OCI layout inside the pack', (pack) => ({ layout: join(pack, 'layout') }), 'the OCI layout PACK/layout is inside the pack folder PACK: every push would put it into the pack\'s archive'],
    ['a cacheDir inside the pack', (pack, root) => ({ layout: join(root, 'layout-c'), cacheDir: join(pack, 'cache') }), "packpub's cache folder (cacheDir) PACK/cache is inside the pack folder PACK: every push would put it into the pack's archive"],
  ])('pushPacks with %s: USAGE before anything is written, the pack folder as it was', async (_, where, message) => {
    const { layout, cacheDir } = where(w.pack, w.root);
    const target = await lib.openTarget({ ociLayout: layout });
    try {
      const r = await refusal(() => lib.pushPacks(target, { packs: [w.pack], force: true, ...(cacheDir === undefined ? {} : { cacheDir }) }));
      expect([r.code, r.message]).toEqual(['USAGE', message.replaceAll('PACK', w.pack)]);
    } finally {
      await target.store.close();
    }
    expect((await readdir(w.pack)).sort()).toEqual(w.before);
    expect(await readdir(layout).catch(() => [])).toEqual([]);
  });

  it('buildPack with outDir inside the pack, or from the pack folder with none: USAGE naming it (was: "the pack folder changed while packpub was packing")', async () => {
    expect((await refusal(() => lib.buildPack(w.pack, { outDir: join(w.pack, 'out') }))).message).toBe(`the archive's folder (outDir) ${join(w.pack, 'out')} is inside the pack folder ${w.pack}: every build would put it into the pack's archive`);
    expect((await refusal(() => lib.buildPack('.', { cwd: w.pack }))).message).toBe(`the archive's folder (the working folder, without outDir) ${w.pack} is inside the pack folder ${w.pack}: every build would put it into the pack's archive`);
    expect((await readdir(w.pack)).sort()).toEqual(w.before);
    const built = await lib.buildPack(w.pack, { outDir: join(w.root, 'out') });
    expect(built.name).toBe('lib-inpack');
    expect(await readdir(join(w.root, 'out'))).toEqual(['lib-inpack-1.0.0.tar.gz']);
  });
});

describe('a credential provider of the program\'s own that fails', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-lib-provider-');
    const pack = await writePack(join(root, 'pack'), { name: 'lib-provider', version: '1.0.0' });
    const registry = stack.add(await startRegistry({ auth: 'htpasswd', users: { alice: 'right-pw' } }));
    return { pack, registry };
  });

  const opened = (resolve: (host: string) => unknown) =>
    lib.openTarget({ registry: `${w.registry.host}/prov`, plainHttp: true, credentials: { name: 'vault', resolve } as unknown as lib.CredentialProvider });

  it.each<[string, (host: string) => unknown, string]>([
    // Was: listPacks rejected with the string itself (no code, no message).
    ['rejects with a string', () => Promise.reject('sealed'), 'the credential provider vault failed for HOST: sealed'],
    ['throws its own TypeError', () => { throw new TypeError('x is undefined'); }, 'the credential provider vault failed for HOST: x is undefined'],
    // Was: read as no credential: "authentication required".
    ['answers a string', async () => 'alice:right-pw', 'the credential provider vault answered HOST with a string, not a credential object'],
    // Was: "Cannot read properties of null (reading 'length')".
    ['answers a password that is no string', async () => ({ username: 'alice', password: null }), 'the credential provider vault answered HOST with a credential whose password is not a string'],
  ])('that %s: listPacks rejects and pushPacks fails the pack with CREDENTIALS naming it; nothing published', async (_, resolve, message) => {
    const target = await opened(resolve);
    try {
      const expected = message.replace('HOST', w.registry.host);
      expect(await refusal(() => lib.listPacks(target))).toEqual({ code: 'CREDENTIALS', message: expected, hint: undefined });
      const report = await lib.pushPacks(target, { packs: [w.pack] });
      expect(report.results.map((r) => [r.status, r.error?.code, r.error?.message])).toEqual([['failed', 'CREDENTIALS', expected]]);
    } finally {
      await target.store.close();
    }
    const good = await lib.openTarget({ registry: `${w.registry.host}/prov`, plainHttp: true, login: { username: 'alice', password: 'right-pw' } });
    try {
      expect(await lib.listPacks(good)).toEqual([]);
    } finally {
      await good.store.close();
    }
  });

  // review29 (s34): the provider was wrapped by inheriting from it, so its invalidate ran with `this` the wrapper, which a
  // class keeping #private fields refuses: a credential with expiresAt running out failed every request with "Cannot
  // write private member" (a bare TypeError, nothing published).
  it('a provider class with #private fields whose credential runs out: invalidated on the class itself, the pack published', async () => {
    class Vault {
      #leases = 0;
      #invalidated = 0;
      readonly name = 'vault';
      async resolve(): Promise<lib.Credential> {
        this.#leases++;
        return { username: 'alice', password: 'right-pw', expiresAt: new Date(Date.now() + 1000) };
      }
      invalidate(): void {
        this.#invalidated++;
      }
      counts(): { leases: number; invalidated: number } {
        return { leases: this.#leases, invalidated: this.#invalidated };
      }
    }
    const vault = new Vault();
    const target = await lib.openTarget({ registry: `${w.registry.host}/prov-class`, plainHttp: true, credentials: vault });
    try {
      const report = await lib.pushPacks(target, { packs: [w.pack] });
      expect(report.results.map((r) => [r.status, r.error?.message])).toEqual([['published', undefined]]);
      expect((await lib.listPacks(target)).map((p) => `${p.name}:${p.versions.map((v) => v.version).join(',')}`)).toEqual(['lib-provider:1.0.0']);
    } finally {
      await target.store.close();
    }
    expect(vault.counts().invalidated).toBeGreaterThan(0);
    expect(vault.counts().leases).toBeGreaterThan(1);
  });

  it('a provider with no resolve, or a login that is no credential: openTarget refuses it (USAGE)', async () => {
    expect((await refusal(() => open({ registry: `${w.registry.host}/prov`, credentials: { name: 'vault' } }))).message).toBe(
      'openTarget: option credentials must be a credential provider (an object with resolve(host)), as chainProviders or staticProvider make',
    );
    // The string is not quoted: a login given as text may be its password (it was: 'not the string "alice:pw"').
    expect((await refusal(() => open({ registry: `${w.registry.host}/prov`, login: 'alice:pw' }))).message).toBe('openTarget: option login must be an object, not a string');
    expect((await refusal(() => open({ registry: `${w.registry.host}/prov`, headers: 'Authorization: Bearer s3cret' }))).message).toBe('openTarget: option headers must be an object, not a string');
    expect((await refusal(() => open({ registry: `${w.registry.host}/prov`, registryConfig: 1234 }))).message).toBe('openTarget: option registryConfig must be a string, not a number');
    expect((await refusal(() => open({ registry: `${w.registry.host}/prov`, login: { username: 'alice', password: 42 } }))).message).toBe(
      'openTarget: option login must be a credential ({ username, password }), not a credential whose password is not a string',
    );
  });
});

