import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, MAX_CONFIG_BYTES } from '../../../src/config/load.js';
import { PackpubError } from '../../../src/errors.js';
import { HARBOR_TARGET_YAML } from '../../support/config.js';
import { setup } from '../../support/stage.js';
import { homedir } from 'node:os';

const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-config-') }));
let n = 0;

/** A fresh folder holding packpub.yaml with `text`. */
async function withConfig(text: string, name = 'packpub.yaml'): Promise<string> {
  const dir = join(w.root, `case-${n++}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), text);
  return dir;
}

async function configError(text: string): Promise<PackpubError> {
  const cwd = await withConfig(text);
  try {
    await loadConfig({ cwd, env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(PackpubError);
    expect((err as PackpubError).code).toBe('CONFIG');
    return err as PackpubError;
  }
  throw new Error('expected a CONFIG error');
}

const FULL = `# every key
version: 1
packs:
  - packs/
  - community/*
recursive: true
defaults:
  target: [harbor, ecr]
  concurrency: 4
  strict: true
  continueOnError: false
  failFast: true
  skipExisting: false
targets:
${HARBOR_TARGET_YAML}      registryConfig: ./docker.json
      allowCrossHostAuth: false
    tls:
      caFile: certs/ca.pem
      certFile: certs/client.pem
      keyFile: ~/keys/client.key
      insecure: false
    resolve: ["harbor.example.com:443:10.0.0.5"]
    harbor:
      createProject: true
  ecr:
    registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com/spectro-oci-registry
    ecr:
      createRepositories: true
      tagMutability: IMMUTABLE
      encryption: KMS
      kmsKey: alias/packs
      tags: { team: platform, token: not-a-secret-just-a-tag-name }
      awsProfile: release
      awsRoleArn: arn:aws:iam::123456789012:role/publisher
      endpoint: https://ecr.example.test
  local:
    ociLayout: ./oci-packs
`;

describe('loadConfig', () => {
  it('returns nothing (and no error) when there is no file', async () => {
    const dir = join(w.root, 'empty-dir');
    await mkdir(dir, { recursive: true });
    expect(await loadConfig({ cwd: dir, env: {} })).toEqual({ warnings: [] });
  });

  it('reads every documented key and makes paths absolute against the file folder', async () => {
    const cwd = await withConfig(FULL);
    const loaded = await loadConfig({ cwd, env: { HOME: '/home/ci' } });
    expect(loaded.file).toBe(join(cwd, 'packpub.yaml'));
    expect(loaded.warnings).toEqual([]);
    const c = loaded.config;
    expect(c?.packs).toEqual([join(cwd, 'packs'), join(cwd, 'community/*')]);
    expect(c?.recursive).toBe(true);
    expect(c?.defaults).toEqual({ target: ['harbor', 'ecr'], concurrency: 4, strict: true, continueOnError: false, failFast: true, skipExisting: false });
    expect(c?.targets?.['harbor']?.tls?.caFile).toBe(join(cwd, 'certs/ca.pem'));
    expect(c?.targets?.['harbor']?.tls?.certFile).toBe(join(cwd, 'certs/client.pem'));
    expect(c?.targets?.['harbor']?.tls?.keyFile).toBe('/home/ci/keys/client.key');
    expect(c?.targets?.['harbor']?.auth?.registryConfig).toBe(join(cwd, 'docker.json'));
    expect(c?.targets?.['harbor']?.auth?.username).toBe('robot$spectro-oci-registry+ci');
    expect(c?.targets?.['local']?.ociLayout).toBe(join(cwd, 'oci-packs'));
    expect(c?.targets?.['ecr']?.ecr?.tags).toEqual({ team: 'platform', token: 'not-a-secret-just-a-tag-name' });
  });

  it('finds the file through --config, then PACKPUB_CONFIG, relative to the working directory', async () => {
    const dir = await withConfig('targets:\n  a:\n    ociLayout: out\n', 'release.yaml');
    const viaFlag = await loadConfig({ path: 'release.yaml', cwd: dir, env: {} });
    expect(viaFlag.config?.targets?.['a']?.ociLayout).toBe(join(dir, 'out'));
    const viaEnv = await loadConfig({ cwd: dir, env: { PACKPUB_CONFIG: join(dir, 'release.yaml') } });
    expect(viaEnv.file).toBe(join(dir, 'release.yaml'));
    await expect(loadConfig({ path: 'missing.yaml', cwd: dir, env: {} })).rejects.toThrow(/--config names missing\.yaml, which is not a readable file/);
    await expect(loadConfig({ cwd: dir, env: { PACKPUB_CONFIG: 'nope.yaml' } })).rejects.toThrow(/PACKPUB_CONFIG names nope\.yaml/);
    // Set but empty (an unset CI variable) is an error, not "no file": ./packpub.yaml would be read instead.
    await expect(loadConfig({ cwd: dir, env: { PACKPUB_CONFIG: '' } })).rejects.toThrow(/^PACKPUB_CONFIG is set but empty$/);
    await expect(loadConfig({ path: '', cwd: dir, env: {} })).rejects.toThrow(/^--config is set but empty$/);
  });

  it('reads yes/no/on/off as Go reads them (booleans), as docs/configuration.md says; quoted "true" is text and refused', async () => {
    const loaded = await loadConfig({
      cwd: await withConfig('recursive: yes\ndefaults:\n  strict: on\n  failFast: Off\n  skipExisting: no\n  continueOnError: True\n  concurrency: 0x10\n'),
      env: {},
    });
    expect(loaded.config).toEqual({ recursive: true, defaults: { strict: true, failFast: false, skipExisting: false, continueOnError: true, concurrency: 16 } });
    expect((await configError('defaults:\n  strict: "true"\n')).message).toMatch(/packpub\.yaml:2:3: defaults\.strict: must be true or false/);
    expect((await configError('defaults:\n  concurrency: "4"\n')).message).toMatch(/packpub\.yaml:2:3: defaults\.concurrency: must be a whole number/);
  });

  it.each([
    ['an unknown top-level key', 'targest:\n  a:\n    ociLayout: x\n', /packpub\.yaml:1:1: targest: unknown key; did you mean "targets"\?/],
    ['an unknown nested key', 'targets:\n  prod:\n    registry: r.example.com/p\n    tls:\n      cafile: ca.pem\n', /packpub\.yaml:5:7: targets\.prod\.tls\.cafile: unknown key; did you mean "caFile"\? \(known here: plainHttp, caFile, insecure, certFile, keyFile\)/],
    ['a wrong type', 'targets:\n  prod:\n    registry: r.example.com/p\n    tls:\n      insecure: "yes"\n', /packpub\.yaml:5:7: targets\.prod\.tls\.insecure: must be true or false/],
    ['a bad enum', 'targets:\n  prod:\n    registry: r.example.com/p\n    type: quay\n', /targets\.prod\.type: must be one of generic, harbor, ecr/],
    ['a list where a mapping belongs', 'targets:\n  - prod\n', /packpub\.yaml:1:1: targets: must be a mapping/],
    ['a bad concurrency', 'defaults:\n  concurrency: 0\n', /defaults\.concurrency: must be between 1 and 64/],
    ['a bad defaults.target', 'defaults:\n  target: 12\n', /defaults\.target: must be a target name or a list of target names/],
    ['a bad target name', 'targets:\n  "prod eu":\n    ociLayout: x\n', /targets\["prod eu"\]: is not a valid target name/],
    ['a bad passwordEnv', 'targets:\n  p:\n    registry: r.example.com/p\n    auth:\n      username: u\n      passwordEnv: "$HARBOR"\n', /targets\.p\.auth\.passwordEnv: must be the name of an environment variable/],
    ['a target without a place', 'targets:\n  p:\n    type: harbor\n', /targets\.p: give either registry \(HOST\[:PORT\]\/BASE-PATH\) or ociLayout/],
    ['registry and ociLayout together', 'targets:\n  p:\n    registry: r.example.com/p\n    ociLayout: x\n', /targets\.p\.ociLayout: registry and ociLayout exclude each other/],
    ['a registry with a scheme', 'targets:\n  p:\n    registry: https://r.example.com/p\n', /packpub\.yaml:3:5: targets\.p\.registry: registry "https:\/\/r\.example\.com\/p" must not include a URL scheme/],
    ['a base path in capitals', 'targets:\n  p:\n    registry: r.example.com/Packs\n', /targets\.p\.registry: base path "Packs" has an invalid path component/],
    ['a username without passwordEnv', 'targets:\n  p:\n    registry: r.example.com/p\n    auth:\n      username: u\n', /targets\.p\.auth\.username: needs auth\.passwordEnv/],
    ['a client certificate without its key', 'targets:\n  p:\n    registry: r.example.com/p\n    tls:\n      certFile: c.pem\n', /packpub\.yaml:5:7: targets\.p\.tls\.certFile: needs tls\.keyFile: a client certificate is a certificate and its key/],
    ['a kmsKey without KMS', 'targets:\n  p:\n    registry: r.example.com/p\n    type: ecr\n    ecr:\n      kmsKey: k\n', /targets\.p\.ecr\.kmsKey: needs ecr\.encryption: KMS or KMS_DSSE/],
    ['an undefined default target', 'defaults:\n  target: prod\ntargets:\n  staging:\n    ociLayout: x\n', /defaults\.target: names "prod", which is not defined under targets \(defined: staging\)/],
    ['a newer version', 'version: 2\n', /version 2 is not understood by this packpub \(it reads version 1\)/],
    ['invalid YAML', 'targets:\n  p: [unclosed\n', /packpub\.yaml:\d+(:\d+)?: not valid YAML/],
    ['duplicate keys', 'targets:\n  p:\n    ociLayout: a\n    ociLayout: b\n', /packpub\.yaml:4:\d+: key "ociLayout" is set twice/],
    // Each pattern in its own words (was: "is not a valid target name" for both, and ajv's "must NOT have more than 5 items").
    ['an empty palette.apiKeyEnv', 'targets:\n  p:\n    registry: r.example.com/p\n    palette:\n      apiKeyEnv: ""\n', /^packpub\.yaml:5:7: targets\.p\.palette\.apiKeyEnv: must be the name of an environment variable \(letters, digits and "_", e\.g\. PALETTE_API_KEY\)$/],
    ['ECR exclusion filters: a blank in one, six of them', 'targets:\n  p:\n    registry: 1.dkr.ecr.us-east-1.amazonaws.com/p\n    ecr:\n      tagMutability: IMMUTABLE_WITH_EXCLUSION\n      tagMutabilityExclusions: ["a b", "1", "2", "3", "4", "5"]\n', /^packpub\.yaml has 2 problems:\n  packpub\.yaml:6:7: targets\.p\.ecr\.tagMutabilityExclusions: must hold at most 5 items\n  packpub\.yaml:6:7: targets\.p\.ecr\.tagMutabilityExclusions\[0\]: must be a wildcard tag filter: 1 to 128 letters/],
    // Blanks pass the schema's minLength: resolved against the file's folder, they named a folder " " (review22).
    ['a path of blanks', 'packs: [" "]\ntargets:\n  p:\n    ociLayout: " "\n  q:\n    registry: r.example.com/p\n    tls:\n      caFile: "  "\n', /^packpub\.yaml has 3 problems:\n  packpub\.yaml:1:\d+: packs\[0\]: must not be empty\n  packpub\.yaml:4:5: targets\.p\.ociLayout: must not be empty\n  packpub\.yaml:8:7: targets\.q\.tls\.caFile: must not be empty$/],
    ['two documents', 'targets: {}\n---\ntargets: {}\n', /holds 2 YAML documents; packpub reads exactly one/],
    // Text the reader does not read was dropped without a word: defaults.target lost, the run published to the local layout.
    ['a line less indented than the first', '  targets:\n    p:\n      ociLayout: x\ndefaults:\n  target: p\n', /^packpub\.yaml:4:1: YAML ends the document's top-level value before this line and never reads it, nor anything after it up to the next ---: packpub would drop it, so it refuses the file\. Indent it like the lines above/],
    ['a line after a flow mapping', 'targets: {p: {ociLayout: x}} x\ndefaults:\n  target: p\n', /^packpub\.yaml:1:\d+: /],
    ['a scalar document', 'just text\n', /must be a mapping of settings/],
  ])('refuses %s, naming the file, line and key', async (_what, text, expected) => {
    const err = await configError(text);
    expect(err.message).toMatch(expected);
    expect(err.hint).toBeDefined();
  });

  it('lists several problems at once, in file order', async () => {
    const err = await configError('targets:\n  p:\n    registri: r.example.com/p\n    tls:\n      insecure: 1\nextra: true\n');
    expect(err.message.split('\n')).toEqual([
      'packpub.yaml has 3 problems:',
      expect.stringMatching(/^  packpub\.yaml:3:5: targets\.p\.registri: unknown key; did you mean "registry"\?/),
      expect.stringMatching(/^  packpub\.yaml:5:7: targets\.p\.tls\.insecure: must be true or false/),
      expect.stringMatching(/^  packpub\.yaml:6:1: extra: unknown key/),
    ]);
  });

  it.each([
    ['password', 'targets:\n  p:\n    registry: r.example.com/p\n    auth:\n      username: u\n      password: hunter2-literal\n', 'targets.p.auth.password'],
    ['a password at the target level', 'targets:\n  p:\n    registry: r.example.com/p\n    password: hunter2-literal\n', 'targets.p.password'],
    ['a token', 'targets:\n  p:\n    registry: r.example.com/p\n    auth:\n      token: hunter2-literal\n', 'targets.p.auth.token'],
  ])('refuses %s in the file with its own message, never echoing it', async (_what, text, path) => {
    const err = await configError(text);
    expect(err.message).toContain(`${path}: a password or token must not be written in the configuration file`);
    expect(err.message).toContain('passwordEnv');
    expect(`${err.message}${err.hint ?? ''}`).not.toContain('hunter2-literal');
  });

  it('warns about settings that will be ignored', async () => {
    const cwd = await withConfig(
      'targets:\n  l:\n    ociLayout: x\n    tls:\n      insecure: true\n  g:\n    registry: r.example.com/p\n    type: generic\n    ecr:\n      tagMutability: IMMUTABLE\n    harbor:\n      createProject: true\n',
    );
    const loaded = await loadConfig({ cwd, env: {} });
    expect(loaded.warnings).toEqual([
      'packpub.yaml: targets.l is an OCI layout; tls ignored',
      'packpub.yaml: targets.g.ecr is ignored: r.example.com/p is not an ECR registry (set type: ecr if it is one)',
      'packpub.yaml: targets.g.harbor is ignored without type: harbor',
    ]);
  });

  it('ECR Public: ecr.createRepositories is used, no warning (was: "targets.p.ecr is ignored: ... not an ECR registry"); other ecr settings are named as ignored', async () => {
    const used = await loadConfig({ cwd: await withConfig('targets:\n  p:\n    registry: public.ecr.aws/myalias/packs\n    ecr:\n      createRepositories: false\n'), env: {} });
    expect(used.warnings).toEqual([]);
    const unused = await loadConfig({ cwd: await withConfig('targets:\n  p:\n    registry: public.ecr.aws/myalias/packs\n    ecr:\n      createRepositories: true\n      tagMutability: IMMUTABLE\n      encryption: KMS\n'), env: {} });
    expect(unused.warnings).toEqual(['packpub.yaml: targets.p.ecr.tagMutability, encryption ignored: public.ecr.aws/myalias/packs is ECR Public, where packpub only creates missing repositories (ecr.createRepositories)']);
  });

  it('refuses --config or PACKPUB_CONFIG holding a line break, naming it quoted (was: the path told across two lines)', async () => {
    const cwd = await withConfig('targets: {}\n');
    await expect(loadConfig({ cwd, path: 'packpub.yaml\n', env: {} })).rejects.toMatchObject({ code: 'CONFIG', message: '--config "packpub.yaml\\n" holds a line break' });
    await expect(loadConfig({ cwd, env: { PACKPUB_CONFIG: 'packpub.yaml\r\n' } })).rejects.toMatchObject({ code: 'CONFIG', message: 'PACKPUB_CONFIG "packpub.yaml\\r\\n" holds a line break' });
  });

  it('reads a file saved with a byte-order mark whole (was: only its first top-level key, the others dropped)', async () => {
    const cwd = await withConfig('\uFEFFpacks: [p]\nrecursive: true\ndefaults:\n  target: t\ntargets:\n  t:\n    ociLayout: out\n');
    expect(await loadConfig({ cwd, env: {} })).toEqual({
      config: { packs: [join(cwd, 'p')], recursive: true, defaults: { target: 't' }, targets: { t: { ociLayout: join(cwd, 'out') } } },
      file: join(cwd, 'packpub.yaml'),
      warnings: [],
    });
  });

  it('accepts an empty file with a warning', async () => {
    const cwd = await withConfig('# nothing yet\n');
    expect(await loadConfig({ cwd, env: {} })).toEqual({ config: {}, file: join(cwd, 'packpub.yaml'), warnings: ['packpub.yaml is empty; using no configuration'] });
  });

  it('prefers packpub.yaml over packpub.yml and says so', async () => {
    const cwd = await withConfig('targets:\n  a:\n    ociLayout: yaml\n');
    await writeFile(join(cwd, 'packpub.yml'), 'targets:\n  a:\n    ociLayout: yml\n');
    const loaded = await loadConfig({ cwd, env: {} });
    expect(loaded.config?.targets?.['a']?.ociLayout).toBe(join(cwd, 'yaml'));
    expect(loaded.warnings).toEqual(['both packpub.yaml and packpub.yml exist; reading packpub.yaml only']);
  });

  it('refuses files above the size bound before parsing them', async () => {
    const cwd = await withConfig(`# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    await expect(loadConfig({ cwd, env: {} })).rejects.toThrow(/a configuration file may have at most 262144/);
  });

  it('refuses alias bombs', async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`);
    const err = await configError(`${lines.join('\n')}\n`);
    expect(err.message).toMatch(/alias bomb/);
  });
});

describe('home-without-usable-home', () => {
  /*
   * `~/` in packpub.yaml is the home folder. With HOME set but empty it was joined to "", so an ociLayout
   * `~/layouts/prod` became `/layouts/prod` at the root of the file system (written there by a job running as root);
   * with HOME unset, a folder named `~` beside the file. Both now use the user's home folder, as the Docker config does.
   */

  const w = setup(async (stack) => {
    const dir = await stack.tempDir('packpub-config-home-');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'packpub.yaml'), 'targets:\n  local:\n    ociLayout: ~/layouts/prod\n');
    return { dir };
  });

  describe('~/ in packpub.yaml without a usable HOME', () => {
    it.each([
      ['HOME set but empty', { HOME: '' }],
      ['HOME unset', {}],
    ])('%s: the home folder, never the root or a folder named ~', async (_what, env: NodeJS.ProcessEnv) => {
      const loaded = await loadConfig({ cwd: w.dir, env });
      expect(loaded.config?.targets?.['local']?.ociLayout).toBe(join(homedir(), 'layouts/prod'));
    });

    it('HOME set: that folder, as before', async () => {
      const loaded = await loadConfig({ cwd: w.dir, env: { HOME: '/home/ci' } });
      expect(loaded.config?.targets?.['local']?.ociLayout).toBe('/home/ci/layouts/prod');
    });
  });
});
