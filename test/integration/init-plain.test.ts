import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { isPackpubError } from '../../src/errors.js';
import { initPack } from '../../src/operations/init.js';
import { validatePack } from '../../src/pack/validate.js';
import { setup } from '../support/stage.js';

const w = setup(async (stack) => ({ work: await stack.tempDir('packpub-init-plain-') }));

describe('initPack: a manifest pack', () => {
  it('scaffolds a pack that passes validate --strict, with the example manifest wired to its values', async () => {
    const dir = join(w.work, 'hello');
    const result = await initPack({ dir, name: 'hello-world', version: '0.1.0', addonType: 'app services' });
    const emptyImages =
      'pack.content.images in values.yaml is empty: list every container image the pack deploys (`- image: REGISTRY/REPO:TAG`); validate --strict and pack-central fail an add-on pack without them';
    expect(result).toMatchObject({ dir, name: 'hello-world', version: '0.1.0', displayName: 'Hello World', layer: 'addon', images: [], review: [], notes: [emptyImages] });
    expect(result.files).toEqual(['README.md', 'logo.png', 'manifests/hello-world.yaml', 'pack.json', 'values.yaml']);

    // The example manifest deploys no image: the one thing left for the author is the image list,
    // which pack-central requires ("Image sources size is 0").
    const report = await validatePack(dir, { strict: true });
    expect(report.findings.map((f) => `${f.severity} ${f.rule} ${f.path ?? ''}`)).toEqual(['warning values-images-missing pack.content.images']);
    expect(report.errors).toBe(0);
    const listed = (await readFile(join(dir, 'values.yaml'), 'utf8')).replace('images: []', 'images:\n      - image: docker.io/library/busybox:1.36');
    await writeFile(join(dir, 'values.yaml'), listed);
    expect((await validatePack(dir, { strict: true })).findings).toEqual([]);

    expect(JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8'))).toEqual({
      name: 'hello-world',
      displayName: 'Hello World',
      version: '0.1.0',
      layer: 'addon',
      addonType: 'app services',
      cloudTypes: ['all'],
      kubeManifests: ['manifests/hello-world.yaml'],
    });
    const values = load(await readFile(join(dir, 'values.yaml'), 'utf8'));
    expect(values).toEqual({
      pack: { namespace: 'hello-world', content: { images: [{ image: 'docker.io/library/busybox:1.36' }] } },
      manifests: { 'hello-world': { message: 'Hello from Hello World' } },
    });
    const manifest = await readFile(join(dir, 'manifests/hello-world.yaml'), 'utf8');
    expect(manifest).toContain('message: "{{ .Values.message }}"');
    // Valid YAML as written, so editors and linters accept it before Palette renders it.
    expect(load(manifest)).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'hello-world-example' } });
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toMatch(/^# Hello World\n/);
  });

  it('defaults the add-on type and says so; other layers get none', async () => {
    const addon = await initPack({ dir: join(w.work, 'addon'), name: 'addon', version: '1.0.0' });
    expect(addon.notes).toEqual([expect.stringContaining('addonType set to "system app"'), expect.stringContaining('pack.content.images in values.yaml is empty')]);
    const k8s = await initPack({ dir: join(w.work, 'k8s'), name: 'my-k8s', version: '1.30.0', layer: 'k8s', displayName: 'My Kubernetes' });
    expect(k8s.notes).toEqual([]);
    expect(JSON.parse(await readFile(join(w.work, 'k8s', 'pack.json'), 'utf8'))).not.toHaveProperty('addonType');
    expect((await validatePack(join(w.work, 'k8s'), { strict: true })).findings).toEqual([]);
  });

  it('refuses a non-empty folder unless forced, then replaces only its own files', async () => {
    const dir = join(w.work, 'busy');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await writeFile(join(dir, 'pack.json'), '{"old": true}');
    const err = await initPack({ dir, name: 'busy', version: '1.0.0' }).catch((e: unknown) => e);
    expect(isPackpubError(err, 'USAGE')).toBe(true);
    expect((err as Error).message).toBe(`${dir} is not empty (2 entries)`);
    expect(await readFile(join(dir, 'pack.json'), 'utf8')).toBe('{"old": true}');

    await initPack({ dir, name: 'busy', version: '1.0.0', force: true });
    expect(JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8'))).toMatchObject({ name: 'busy' });
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it.each([
    { options: { name: 'Hello', version: '1.0.0' }, message: 'pack name "Hello" has an invalid path component "Hello"', hint: 'use lowercase: "hello"' },
    { options: { name: 'a/b', version: '1.0.0' }, message: 'pack name "a/b" contains "/"' },
    { options: { name: 'ok', version: '1.0.0+build.1' }, message: 'pack version "1.0.0+build.1" is not a valid OCI tag: "+" is not allowed' },
    { options: { name: 'ok', version: '-1' }, message: 'pack version "-1" is not a valid OCI tag: it starts with "-"' },
    { options: { name: 'ok' }, message: 'packpub init needs --version' },
    { options: { version: '1.0.0' }, message: 'packpub init needs --name' },
  ])('refuses $options as a usage error before writing anything', async ({ options, message, hint }) => {
    const dir = join(w.work, `bad-${Math.random().toString(16).slice(2)}`);
    const err = await initPack({ dir, ...options }).catch((e: unknown) => e);
    expect(isPackpubError(err, 'USAGE')).toBe(true);
    expect((err as Error).message).toBe(message);
    if (hint !== undefined) expect((err as { hint?: string }).hint).toBe(hint);
    await expect(readFile(join(dir, 'pack.json'))).rejects.toThrow();
  });

  it('refuses a path that is a file', async () => {
    await writeFile(join(w.work, 'a-file'), '');
    const err = await initPack({ dir: join(w.work, 'a-file'), name: 'x', version: '1.0.0' }).catch((e: unknown) => e);
    expect(isPackpubError(err, 'USAGE')).toBe(true);
    expect((err as Error).message).toContain('exists and is not a folder');
  });
});
