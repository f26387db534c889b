import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedRegistry, startRegistry, type RunningRegistry } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { tempDir, treeOf } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { RegistryReader } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * issue 13: mistakes a new user makes get a message that says what happened, the right exit code, and
 * leave the target as it was.
 */

describe('mistakes get a clear answer', () => {
  const password = `pw-${Math.random().toString(36).slice(2)}`;

  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-mistakes-');
    const registry = await sharedRegistry({ auth: 'htpasswd', users: { ci: password } });
    const pack = await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
    return { registry, root, pack };
  });

  const env = () => ({ DOCKER_CONFIG: join(w.root, 'docker') });

  it('item 8: an empty password on standard input is named as such, and nothing is pushed', async () => {
    for (const stdin of ['', '\n', '  \n']) {
      const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.registry.base}/m`, '--username', 'ci', '--password-stdin'], { stdin, env: env() });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('error: empty password on standard input (--password-stdin)');
      expect(run.stderr).toContain('hint: the variable or secret piped in is empty or unset');
      expect(run.stderr).not.toContain('credentials rejected');
    }
    const login = await runCli(['login', w.registry.host, '--username', 'ci', '--password-stdin'], { stdin: '', env: env() });
    expect(login.code).toBe(2);
    expect(login.stderr).toContain('empty password on standard input');
    await expect(readdir(join(w.root, 'docker'))).rejects.toThrow(); // no Docker config was written
    const holdings = await new RegistryReader(w.registry.url, { username: 'ci', password }).holdings(`${w.registry.base}/m`);
    expect([...holdings.tags.keys()]).toEqual([]);
  });

  it('a switch given a value (--dry-run=yes) is refused before anything is pushed: the parser would read it as false', async () => {
    const registry = `${w.registry.host}/${w.registry.base}/switch`;
    for (const [args, flag, value] of [
      [['push', w.pack, '--dry-run=yes'], 'dry-run', 'yes'],
      [['push', w.pack, '--skip-existing=on'], 'skip-existing', 'on'],
      [['--debug=yes', 'push', w.pack], 'debug', 'yes'],
    ] as const) {
      const run = await runCli([...args, '--registry', registry, '--username', 'ci', '--password-stdin'], { stdin: password, env: env() });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: --${flag} is a switch and takes no value, got "${value}"`);
      expect(run.stderr).toContain(`hint: write --${flag} to turn it on, --no-${flag} (or --${flag}=false) to turn it off`);
    }
    const negated = await runCli(['push', w.pack, '--no-dry-run=1', '--registry', registry, '--username', 'ci', '--password-stdin'], { stdin: password, env: env() });
    expect(negated.code, negated.stderr).toBe(2);
    expect(negated.stderr).toContain('error: --no-dry-run is a switch and takes no value, got "1"\nhint: write --no-dry-run alone to turn it off, or --dry-run=true / --dry-run=false\n');
    // A value after a credential switch may be the password itself: refused without echoing it.
    const typed = `pw-${Math.random().toString(36).slice(2)}`;
    const secret = await runCli(['push', w.pack, '--registry', registry, '--username', 'ci', `--password-stdin=${typed}`], { stdin: password, env: env() });
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain('error: --password-stdin is a switch and takes no value, got a value (not shown)');
    expect(secret.stdout + secret.stderr).not.toContain(typed);
    const validate = await runCli(['validate', w.pack, '--check-images=maybe']);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain('error: --check-images is a switch and takes no value, got "maybe"');
    const holdings = await new RegistryReader(w.registry.url, { username: 'ci', password }).holdings(`${w.registry.base}/switch`);
    expect([...holdings.tags.keys()]).toEqual([]);
    // true and false stay accepted, as the parser reads them: a dry run publishes nothing and exits 0.
    const dry = await runCli(['push', w.pack, '--dry-run=true', '--json=false', '--registry', registry, '--username', 'ci', '--password-stdin'], { stdin: password, env: env() });
    expect(dry.code, dry.stderr).toBe(0);
    expect([...(await new RegistryReader(w.registry.url, { username: 'ci', password }).tagDigests(`${w.registry.base}/switch`)).keys()]).toEqual([]);
  });

  it('a negated switch given a value (--no-cache=true) says what to write, for every switch of every command; nothing is pushed', async () => {
    const registry = `${w.registry.host}/${w.registry.base}/negated`;
    const push = await runCli(['push', w.pack, '--no-cache=true', '--registry', registry, '--username', 'ci', '--password-stdin'], { stdin: password, env: env() });
    expect(push.code, push.stderr).toBe(2);
    expect(push.stderr).toBe('error: --no-cache is a switch and takes no value, got "true"\nhint: write --no-cache alone to turn it off, or --cache=true / --cache=false\n');
    expect([...(await new RegistryReader(w.registry.url, { username: 'ci', password }).tagDigests(`${w.registry.base}/negated`)).keys()]).toEqual([]);
    // A value after a negated credential switch is never echoed either.
    const typed = `pw-${Math.random().toString(36).slice(2)}`;
    const secret = await runCli(['push', w.pack, '--registry', registry, `--no-password-stdin=${typed}`]);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain('error: --no-password-stdin is a switch and takes no value, got a value (not shown)');
    expect(secret.stdout + secret.stderr).not.toContain(typed);
    // Every switch of every command, and the global ones, given true or false: one check refuses both for any
    // switch (refuseSwitchValues), so each switch is run with one of them, in turn (both values over every
    // command's switches, half the ~300 runs).
    const { loadCommands } = await import('../../src/cli/commands/index.js');
    const { describeCommands } = await import('../../src/cli/completion.js');
    const specs = await loadCommands();
    const commands = await describeCommands(specs);
    // What each command's required arguments need to be read at all (the switch check runs after yargs' count of them).
    const positionals = (name: string): string[] => {
      const spec = specs.find((c) => (Array.isArray(c.command) ? c.command[0] : c.command)?.split(' ')[0] === name);
      const line = (Array.isArray(spec?.command) ? spec?.command[0] : spec?.command) ?? '';
      const wanted = [...line.matchAll(/<([\w-]+)(?:\.\.\.)?>/g)].map((m) => m[1]);
      return wanted.map((p) => (p === 'action' ? 'sync' : p === 'shell' ? 'bash' : p === 'tags' ? '1.0.1' : 'x:1.0.0'));
    };
    const checked = { true: 0, false: 0 };
    for (const command of commands) {
      const switches = new Set(command.booleans.map((b) => b.replace(/^no-/, '')));
      switches.delete('help');
      for (const name of switches) {
        const value = checked.true > checked.false ? 'false' : 'true';
        const run = await runCli([command.name, ...positionals(command.name), `--no-${name}=${value}`]);
        expect(run.code, `${command.name} --no-${name}=${value}: ${run.stderr}`).toBe(2);
        expect(run.stderr, `${command.name} --no-${name}=${value}`).toContain(`error: --no-${name} is a switch and takes no value, got `);
        expect(run.stderr).toContain(`hint: write --no-${name} alone to turn it off, or --${name}=true / --${name}=false\n`);
        checked[value]++;
      }
    }
    expect(checked.true).toBeGreaterThan(50);
    expect(checked.false).toBeGreaterThan(50);
  });

  it('arguments after "--" are refused, not dropped: `push pack -- --dry-run` published for real', async () => {
    const registry = `${w.registry.host}/${w.registry.base}/dashdash`;
    const login = ['--registry', registry, '--username', 'ci', '--password-stdin'];
    for (const [args, command, rest] of [
      [['push', w.pack, ...login, '--', '--dry-run'], 'push', '"--dry-run"'],
      [['push', '--dry-run', w.pack, ...login, '--', '--force=yes', 'x'], 'push', '"--force=yes" "x"'],
      [['--debug', 'list', ...login, '--', 'hello'], 'list', '"hello"'],
      [['validate', w.pack, '--', '--strict'], 'validate', '"--strict"'],
    ] as const) {
      const run = await runCli([...args], { stdin: password, env: env() });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: packpub ${command} does not read what follows "--": ${rest}\n`);
      expect(run.stderr).toContain('hint: drop the "--" and give flags and arguments as usual');
    }
    // A token that may be a secret (the value of a password-like flag) is not echoed.
    const typed = `typed-${Math.random().toString(36).slice(2)}`;
    for (const [rest, shown] of [
      [[`--password=${typed}`], '--password=(not shown)'],
      [['--password', typed], '"--password" (a value, not shown)'],
      [['-p', typed, '--dry-run'], '"-p" (a value, not shown) "--dry-run"'],
      [[`--api-key=${typed}`, '--tag=x'], '--api-key=(not shown) "--tag=x"'],
    ] as const) {
      const run = await runCli(['push', w.pack, ...login, '--', ...rest], { stdin: password, env: env() });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: packpub push does not read what follows "--": ${shown}\n`);
      expect(run.stdout + run.stderr).not.toContain(typed);
    }
    const holdings = await new RegistryReader(w.registry.url, { username: 'ci', password }).holdings(`${w.registry.base}/dashdash`);
    expect([...holdings.tags.keys()]).toEqual([]);
  });

  it('a one-value flag given twice is refused, never joined or picked: --oci-layout twice crashed, --registry-type twice was ignored', async () => {
    const { dir, cleanup } = await tempDir('packpub-twice-');
    try {
      const [a, b] = [join(dir, 'a'), join(dir, 'b')];
      const registry = `${w.registry.host}/${w.registry.base}/twice`;
      const login = ['--username', 'ci', '--password-stdin'];
      for (const [args, flag] of [
        [['push', w.pack, '--oci-layout', a, '--oci-layout', b], 'oci-layout'],
        [['push', w.pack, '--registry', registry, '--registry-type', 'generic', '--registry-type', 'harbor', ...login], 'registry-type'],
        [['push', w.pack, '--registry', registry, '--ca-file', a, '--ca-file', b, ...login], 'ca-file'],
        [['push', w.pack, '--registry', registry, '--concurrency', '2', '--concurrency', '9', ...login], 'concurrency'],
        [['push', w.pack, '--registry', registry, '-u', 'ci', '-u', 'other', '--password-stdin'], 'username'],
        [['copy', 'hello:1.0.0', '--from', `oci:${a}`, '--from', `oci:${b}`, '--to', registry, '--to-username', 'ci', '--to-password-stdin'], 'from'],
      ] as const) {
        const run = await runCli([...args], { stdin: password, env: env(), cwd: dir });
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr).toContain(`error: --${flag} was given 2 times: give it once\n`);
        expect(run.stderr).toContain('hint: it takes one value, and packpub does not pick one of several for you: drop the others');
      }
      expect(await readdir(dir)).toEqual([]); // no layout was written
      expect([...(await new RegistryReader(w.registry.url, { username: 'ci', password }).tagDigests(`${w.registry.base}/twice`)).keys()]).toEqual([]);
      // The repeatable ones stay repeatable: two -H and two --tag publish once, with both tags.
      const both = await runCli(['push', w.pack, '--registry', `${registry}/ok`, '-H', 'X-A: 1', '-H', 'X-B: 2', '--tag', 'x', '--tag', 'y', ...login], {
        stdin: password,
        env: env(),
        cwd: dir,
      });
      expect(both.code, both.stderr).toBe(0);
      const tags = [...(await new RegistryReader(w.registry.url, { username: 'ci', password }).tagDigests(`${w.registry.base}/twice/ok`)).keys()].sort();
      expect(tags).toEqual([`${w.registry.base}/twice/ok/spectro-packs/archive/hello:1.0.0`, `${w.registry.base}/twice/ok/spectro-packs/archive/hello:x`, `${w.registry.base}/twice/ok/spectro-packs/archive/hello:y`]);
    } finally {
      await cleanup();
    }
  });

  it('a PACKPUB_ variable spelled like a flag without an environment form is refused: PACKPUB_DRY_RUN=1 published for real', async () => {
    const registry = `${w.registry.host}/${w.registry.base}/envflag`;
    for (const [vars, name, flag] of [
      [{ PACKPUB_DRY_RUN: '1' }, 'PACKPUB_DRY_RUN', 'dry-run'],
      [{ PACKPUB_DRY_RUN: '' }, 'PACKPUB_DRY_RUN', 'dry-run'],
      [{ PACKPUB_CONCURRENCY: 'abc' }, 'PACKPUB_CONCURRENCY', 'concurrency'],
      [{ PACKPUB_SKIP_EXISTING: 'yes' }, 'PACKPUB_SKIP_EXISTING', 'skip-existing'],
    ] as const) {
      const run = await runCli(['push', w.pack, '--registry', registry, '--username', 'ci', '--password-stdin'], { stdin: password, env: { ...env(), ...vars } });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: ${name} is set, but packpub reads no environment variable for --${flag}\n`);
      expect(run.stderr).toContain(`hint: give --${flag} on the command line instead, and unset ${name} (the variables packpub reads: docs/configuration.md, "Environment variables")`);
    }
    expect([...(await new RegistryReader(w.registry.url, { username: 'ci', password }).tagDigests(`${w.registry.base}/envflag`)).keys()]).toEqual([]);
    // The variables that do stand for a flag, and unrelated PACKPUB_ names, are read as before.
    const ok = await runCli(['push', w.pack, '--password-stdin'], {
      stdin: password,
      env: { ...env(), PACKPUB_REGISTRY: registry, PACKPUB_USERNAME: 'ci', PACKPUB_RELEASE_NOTES: 'x' },
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect([...(await new RegistryReader(w.registry.url, { username: 'ci', password }).tagDigests(`${w.registry.base}/envflag`)).keys()]).toEqual([`${w.registry.base}/envflag/spectro-packs/archive/hello:1.0.0`]);
  });

  it('--target "" is refused: it was dropped and the run published to defaults.target', async () => {
    const { dir, cleanup } = await tempDir('packpub-empty-target-');
    try {
      await writeFile(join(dir, 'packpub.yaml'), 'targets:\n  local:\n    ociLayout: out\ndefaults:\n  target: local\n');
      for (const args of [['--target', ''], ['--target', ' '], ['-t', 'local', '-t', '']]) {
        const run = await runCli(['push', w.pack, ...args], { cwd: dir, env: env() });
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr).toContain('error: --target is empty\n');
        expect(run.stderr).toContain('hint: name a target of packpub.yaml (an unset CI variable often leaves it empty), or leave --target out to use defaults.target');
      }
      expect(await readdir(dir)).toEqual(['packpub.yaml']); // nothing published to out/
      const ok = await runCli(['push', w.pack, '--target', 'local'], { cwd: dir, env: env() });
      expect(ok.code, ok.stderr).toBe(0);
      expect(await readdir(join(dir, 'out', 'spectro-packs', 'archive', 'hello'))).toContain('index.json');
    } finally {
      await cleanup();
    }
  });

  it('PACKPUB_CONFIG or --config set but empty is refused: an empty PACKPUB_CONFIG was ignored and the run published to ./oci-packs', async () => {
    const { dir, cleanup } = await tempDir('packpub-empty-config-');
    try {
      for (const [args, envVars, from] of [
        [['push', w.pack], { PACKPUB_CONFIG: '' }, 'PACKPUB_CONFIG'],
        [['push', w.pack], { PACKPUB_CONFIG: ' ' }, 'PACKPUB_CONFIG'],
        [['push', w.pack, '--config', ''], {}, '--config'],
      ] as const) {
        const run = await runCli([...args], { env: { ...env(), ...envVars }, cwd: dir });
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr).toContain(`error: ${from} is set but empty\n`);
        expect(run.stderr).toContain(`hint: name the configuration file, or leave ${from} out to use ./packpub.yaml`);
      }
      expect(await readdir(dir)).toEqual([]); // no ./oci-packs
    } finally {
      await cleanup();
    }
  });

  it('half of a credential pair (an unexpanded CI secret) is refused, naming the missing variable: it fell back to the Docker config', async () => {
    const registry = `${w.registry.host}/${w.registry.base}/halfpair`;
    // The Docker config can push here: falling back to it would publish, and exit 0.
    const dockerDir = join(w.root, 'docker-half');
    await mkdir(dockerDir, { recursive: true });
    await writeFile(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [w.registry.host]: { auth: Buffer.from(`ci:${password}`).toString('base64') } } }));
    const typed = `typed-${Math.random().toString(36).slice(2)}`;
    const home = { DOCKER_CONFIG: dockerDir };
    for (const [args, vars, message] of [
      [[], { PACKPUB_USERNAME: 'ci' }, 'PACKPUB_USERNAME is set but PACKPUB_PASSWORD is not set'],
      [[], { PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: '' }, 'PACKPUB_USERNAME is set but PACKPUB_PASSWORD is empty'],
      [[], { PACKPUB_PASSWORD: typed }, 'PACKPUB_PASSWORD is set but PACKPUB_USERNAME is not set'],
      [[], { PACKPUB_USERNAME: '', PACKPUB_PASSWORD: typed }, 'PACKPUB_PASSWORD is set but PACKPUB_USERNAME is empty'],
      [[], { PACKPUB_USERNAME: '', PACKPUB_PASSWORD: '' }, 'PACKPUB_USERNAME and PACKPUB_PASSWORD are set but empty'],
      // One empty, the other not set at all: was "... and ... are set but empty" (review13).
      [[], { PACKPUB_USERNAME: '' }, 'PACKPUB_USERNAME is set but empty and PACKPUB_PASSWORD is not set'],
      [[], { PACKPUB_PASSWORD: ' ' }, 'PACKPUB_PASSWORD is set but empty and PACKPUB_USERNAME is not set'],
      // The flags take the other half from the environment, under the same rule.
      [['--username', 'ci'], { PACKPUB_PASSWORD: '' }, '--username ci needs a password: PACKPUB_PASSWORD is set but empty'],
      [['--password-stdin'], { PACKPUB_USERNAME: '' }, '--password-stdin needs --username (or PACKPUB_USERNAME): PACKPUB_USERNAME is set but empty'],
      [['--username', '', '--password-stdin'], {}, '--username is empty'],
    ] as const) {
      const run = await runCli(['push', w.pack, '--registry', registry, ...args], { stdin: password, env: { ...home, ...vars } });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: ${message}\n`);
      expect(run.stdout + run.stderr).not.toContain(typed);
      expect(run.stdout + run.stderr).not.toContain(password);
    }
    // copy: each side's pair under the same rule, and a side flag takes its own side's variable first.
    for (const [args, vars, message] of [
      [[], { PACKPUB_TO_USERNAME: 'ci' }, 'PACKPUB_TO_USERNAME is set but PACKPUB_TO_PASSWORD is not set'],
      [[], { PACKPUB_FROM_PASSWORD: typed }, 'PACKPUB_FROM_PASSWORD is set but PACKPUB_FROM_USERNAME is not set'],
      [['--to-username', 'ci'], { PACKPUB_TO_PASSWORD: '' }, '--to-username ci needs a password: PACKPUB_TO_PASSWORD is set but empty'],
    ] as const) {
      const run = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${join(w.root, 'no-layout')}`, '--to', registry, ...args], { env: { ...home, ...vars } });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: ${message}\n`);
      expect(run.stdout + run.stderr).not.toContain(typed);
    }
    expect([...(await new RegistryReader(w.registry.url, { username: 'ci', password }).tagDigests(`${w.registry.base}/halfpair`)).keys()]).toEqual([]);
    // A whole pair is used; so is a flag completed by the environment.
    const whole = await runCli(['push', w.pack, '--registry', registry], { env: { ...home, PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: password } });
    expect(whole.code, whole.stderr).toBe(0);
    const layout = join(w.root, 'halfpair-layout');
    expect((await runCli(['push', w.pack, '--oci-layout', layout])).code).toBe(0);
    const copied = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${layout}`, '--to', `${registry}/copied`, '--to-username', 'ci'], {
      env: { DOCKER_CONFIG: join(w.root, 'no-docker'), PACKPUB_TO_PASSWORD: password },
    });
    expect(copied.code, copied.stderr).toBe(0);
    expect([...(await new RegistryReader(w.registry.url, { username: 'ci', password }).tagDigests(`${w.registry.base}/halfpair`)).keys()].sort()).toEqual([
      `${w.registry.base}/halfpair/copied/spectro-packs/archive/hello:1.0.0`,
      `${w.registry.base}/halfpair/spectro-packs/archive/hello:1.0.0`,
    ]);
  });

  it('build refuses an empty PACKPUB_REGISTRY or --registry as every other command does: it showed the layout reference', async () => {
    const { dir, cleanup } = await tempDir('packpub-build-registry-');
    try {
      for (const [args, vars, message] of [
        [[], { PACKPUB_REGISTRY: '' }, 'PACKPUB_REGISTRY is set but empty'],
        [[], { PACKPUB_REGISTRY: ' ' }, 'PACKPUB_REGISTRY is set but empty'],
        [['--registry', ''], {}, '--registry is empty'],
        [['-r', 'a.example.com/x', '-r', 'b.example.com/y'], {}, '--registry was given 2 times; build shows the reference for one registry'],
        [['-r', 'a.example.com/x/spectro-packs/archive'], {}, 'the registry a.example.com/x/spectro-packs/archive names the packs repository itself; give only HOST[:PORT]/BASE-PATH'],
      ] as const) {
        const run = await runCli(['build', w.pack, ...args], { cwd: dir, env: vars });
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr).toContain(`error: ${message}\n`);
        expect(run.stdout).toBe('');
      }
      expect(await readdir(dir)).toEqual([]); // no archive was written
      // A flag beats the empty variable, as for push.
      const ok = await runCli(['build', w.pack, '-r', 'a.example.com/x'], { cwd: dir, env: { PACKPUB_REGISTRY: '' } });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('reference  a.example.com/x/spectro-packs/archive/hello:1.0.0');
      expect(await readdir(dir)).toEqual(['hello-1.0.0.tar.gz']);
    } finally {
      await cleanup();
    }
  });

  it("--no-strict turns off the file's strict: true for one run: it was ignored and the run refused the pack", async () => {
    const { dir, cleanup } = await tempDir('packpub-no-strict-');
    try {
      const warned = await writePack(join(dir, 'warned'), { name: 'warned', version: '1.0.0' });
      await rm(join(warned, 'README.md')); // one warning
      await writeFile(join(dir, 'packpub.yaml'), 'defaults:\n  strict: true\ntargets:\n  local:\n    ociLayout: out\n');
      const strict = await runCli(['push', warned, '--target', 'local'], { cwd: dir });
      expect(strict.code).toBe(1);
      expect(strict.stderr).toContain('warned:1.0.0: 0 error(s) and 1 warning(s) in validation');
      expect(await readdir(dir)).not.toContain('out');
      for (const off of ['--no-strict', '--strict=false']) {
        const run = await runCli(['push', warned, '--target', 'local', off], { cwd: dir });
        expect(run.code, run.stderr).toBe(0);
      }
      expect(await readdir(join(dir, 'out', 'spectro-packs', 'archive'))).toEqual(['warned']);
    } finally {
      await cleanup();
    }
  });

  it('a bad TLS file is named where it was given: the packpub.yaml key or a copy side\'s flag, not --ca-file', async () => {
    const { dir, cleanup } = await tempDir('packpub-tls-names-');
    try {
      const yaml = join(dir, 'packpub.yaml');
      const notPem = join(dir, 'not.pem');
      await writeFile(notPem, 'not a certificate\n');
      await writeFile(
        yaml,
        `targets:\n  ca:\n    registry: ${w.registry.host}/${w.registry.base}/tlsnames\n    tls:\n      plainHttp: false\n      caFile: missing-ca.pem\n  cert:\n    registry: ${w.registry.host}/${w.registry.base}/tlsnames\n    tls:\n      plainHttp: false\n      certFile: not.pem\n      keyFile: not.pem\n`,
      );
      for (const [args, message] of [
        [['push', w.pack, '--target', 'ca'], `cannot read targets.ca.tls.caFile in ${yaml} ${join(dir, 'missing-ca.pem')}: `],
        [['push', w.pack, '--target', 'cert'], `targets.cert.tls.certFile in ${yaml} ${notPem} holds no PEM certificate`],
        // A flag beats the file, and is named when it is the one used.
        [['push', w.pack, '--target', 'ca', '--ca-file', notPem], `--ca-file ${notPem} holds no PEM certificate`],
        [['copy', 'hello:1.0.0', '--from', `oci:${dir}`, '--to', `${w.registry.host}/${w.registry.base}/tlsnames`, '--no-to-plain-http', '--to-ca-file', notPem], `--to-ca-file ${notPem} holds no PEM certificate`],
      ] as const) {
        const run = await runCli([...args], { cwd: dir, env: { ...env(), PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: password } });
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr).toContain(`error: ${message}`);
      }
      expect([...(await new RegistryReader(w.registry.url, { username: 'ci', password }).tagDigests(`${w.registry.base}/tlsnames`)).keys()]).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('an empty path flag (an unset CI variable) is refused: --oci-layout "" published into the working directory', async () => {
    const { dir, cleanup } = await tempDir('packpub-empty-paths-');
    try {
      const registry = ['--registry', `${w.registry.host}/${w.registry.base}/emptypaths`, '--username', 'ci', '--password-stdin'];
      for (const [args, flag] of [
        [['push', w.pack, '--oci-layout', ''], 'oci-layout'],
        [['push', w.pack, ...registry, '--registry-config', ''], 'registry-config'],
        [['push', w.pack, ...registry, '--ca-file', ' '], 'ca-file'],
        [['copy', 'hello:1.0.0', '--from', `oci:${dir}`, '--to', `${w.registry.host}/${w.registry.base}/emptypaths`, '--to-ca-file', ''], 'to-ca-file'],
      ] as const) {
        const run = await runCli([...args], { cwd: dir, stdin: password, env: env() });
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr).toContain(`error: --${flag} is empty\n`);
        expect(run.stderr).toContain(`hint: give a value (an unset CI variable often leaves it empty), or leave --${flag} out`);
      }
      expect(await readdir(dir)).toEqual([]); // no layout in the working directory
      expect([...(await new RegistryReader(w.registry.url, { username: 'ci', password }).tagDigests(`${w.registry.base}/emptypaths`)).keys()]).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('item 9: init refuses a version validate --strict would reject, writing nothing', async () => {
    for (const [version, message, hint] of [
      ['v1.0.0', 'pack version "v1.0.0" starts with "v", which pack-central rejects', 'hint: pass --version 1.0.0'],
      ['1.2.3.4', 'pack version "1.2.3.4" is not a semantic version Palette can order (more than three numeric parts)', 'hint: pass --version 1.2.3'],
    ] as const) {
      const dir = join(w.root, `init-${version}`);
      const run = await runCli(['init', dir, '--name', 'x', '--version', version]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`error: ${message}`);
      expect(run.stderr).toContain(hint);
      await expect(readdir(dir)).rejects.toThrow();
    }
    // Versions Palette and Helm read (Masterminds semver: leading zeros, one to three parts), as validate --strict
    // does: NetApp's trident-operator chart 23.07.1 is a pack-central pack.
    for (const version of ['1.0.0', '23.07.1', '1.5']) {
      const dir = join(w.root, `init-ok-${version}`);
      expect((await runCli(['init', dir, '--name', 'x', '--version', version])).code).toBe(0);
      expect(JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8')).version).toBe(version);
      const checked = JSON.parse((await runCli(['validate', dir, '--strict', '--json'])).stdout) as Array<{ findings: Array<{ rule: string }> }>;
      expect(checked[0]?.findings.filter((f) => f.rule.startsWith('version-'))).toEqual([]);
    }
  });

  it('item 21: inspect, pull and tag take the full reference push prints, and name@sha256:<digest>', async () => {
    const push = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.registry.base}/full`, '--username', 'ci', '--password-stdin', '--json'], { stdin: password, env: env() });
    expect(push.code, push.stderr).toBe(0);
    const { reference, digest } = (JSON.parse(push.stdout) as { results: Array<{ reference: string; digest: string }> }).results[0]!;
    expect(reference).toBe(`${w.registry.host}/${w.registry.base}/full/spectro-packs/archive/hello:1.0.0`);
    const auth = { env: { ...env(), PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: password } };

    // no --registry: the reference names it
    const inspect = await runCli(['inspect', reference, '--json'], auth);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout).manifest.digest).toBe(digest);
    const byDigest = await runCli(['inspect', `${w.registry.host}/${w.registry.base}/full/spectro-packs/archive/hello@${digest}`, '--json'], auth);
    expect(byDigest.code, byDigest.stderr).toBe(0);
    expect(JSON.parse(byDigest.stdout).manifest.digest).toBe(digest);
    const short = await runCli(['inspect', `hello@${digest}`, '--registry', `${w.registry.host}/${w.registry.base}/full`], auth);
    expect(short.code, short.stderr).toBe(0);
    expect(short.stdout).toContain(digest);

    const out = join(w.root, 'pulled');
    const pull = await runCli(['pull', reference, '-o', out], auth);
    expect(pull.code, pull.stderr).toBe(0);
    expect(await treeOf(out)).toEqual(await treeOf(w.pack));
    const pullDigest = await runCli(['pull', `hello@${digest}`, '--registry', `${w.registry.host}/${w.registry.base}/full`], { ...auth, cwd: w.root });
    expect(pullDigest.code, pullDigest.stderr).toBe(0);
    expect(await treeOf(join(w.root, `hello-${digest.slice(7, 19)}`))).toEqual(await treeOf(w.pack));

    const tag = await runCli(['tag', reference, '1.0.x'], auth);
    expect(tag.code, tag.stderr).toBe(0);
    const holdings = await new RegistryReader(w.registry.url, { username: 'ci', password }).holdings(`${w.registry.base}/full`);
    expect(holdings.tags.get(`${w.registry.base}/full/spectro-packs/archive/hello:1.0.x`)).toBe(digest);

    // a flag naming another target is refused, not silently preferred
    const clash = await runCli(['inspect', reference, '--registry', `${w.registry.host}/${w.registry.base}/other`], auth);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(`error: the reference names ${w.registry.host}/${w.registry.base}/full, but --registry ${w.registry.host}/${w.registry.base}/other names another target`);

    // the layout form push prints
    const layout = join(w.root, 'layout');
    const local = await runCli(['push', w.pack, '--oci-layout', layout, '--json']);
    const { reference: localRef, digest: localDigest } = (JSON.parse(local.stdout) as { results: Array<{ reference: string; digest: string }> }).results[0]!;
    expect(localRef).toBe(`oci:${layout}/spectro-packs/archive/hello:1.0.0`);
    const localInspect = await runCli(['inspect', localRef]);
    expect(localInspect.code, localInspect.stderr).toBe(0);
    expect(localInspect.stdout).toContain(`manifest  ${localDigest}`);
  });
});

describe('login on an ECR host', () => {
  it('item 22: says there is nothing to log in to, exits 0 and saves nothing (as docs/errors.md says)', async () => {
    const { dir, cleanup } = await tempDir('packpub-ecr-login-');
    try {
      const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
      const run = await runCli(['login', host, '-u', 'AWS', '--password-stdin'], { stdin: 'x', env: { DOCKER_CONFIG: join(dir, 'docker') } });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`${host} is an AWS ECR registry`);
      expect(run.stdout).toContain('Nothing was saved.');
      await expect(readdir(join(dir, 'docker'))).rejects.toThrow();
    } finally {
      await cleanup();
    }
  });
});

describe('mistyped commands and flags', () => {
  it('item 19: name the nearest real flag or command once, in the user spelling; never publish', async () => {
    const { dir, cleanup } = await tempDir('packpub-typos-');
    try {
      const pack = await writePack(join(dir, 'p'), { name: 'typo', version: '1.0.0' });
      const layout = join(dir, 'layout');
      const cases: Array<[string[], string, string]> = [
        [['push', pack, '-recursive', '--oci-layout', layout], 'error: unknown flag -recursive: did you mean --recursive?\n', 'hint: run packpub push --help for its flags'],
        [['push', pack, '--skip-exisitng', '--oci-layout', layout], 'error: unknown flag --skip-exisitng: did you mean --skip-existing?\n', 'packpub push --help'],
        [['push', pack, '--no-such-thing', '--oci-layout', layout], 'error: unknown flag --no-such-thing\n', 'packpub push --help'],
        [['pusj', pack], 'error: unknown command "pusj": did you mean push?\n', 'hint: commands: '],
        [['untag', 'x:1', 'y'], 'error: unknown command "untag"\n', 'hint: commands: '],
        [['rm', 'x:1'], 'error: unknown command "rm"\n', 'hint: commands: '],
      ];
      for (const [argv, message, hint] of cases) {
        const run = await runCli(argv);
        expect(run.code, argv.join(' ')).toBe(2);
        expect(run.stderr, argv.join(' ')).toBe(`${message}${run.stderr.slice(message.length)}`);
        expect(run.stderr).toContain(hint);
        expect(run.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
      }
      await expect(readdir(layout)).rejects.toThrow(); // nothing was published

      const secret = 'typed-on-the-command-line-42';
      for (const argv of [['list', '-p', secret], ['list', `--password=${secret}`], ['list', '--password', secret]]) {
        const run = await runCli([...argv, '--oci-layout', layout]);
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/^error: there is no (-p|--password) flag\n/);
        expect(run.stderr).toContain("hint: passwords are read from standard input only, never from a flag (it would show in the process list and shell history): printf '%s' \"$PASSWORD\" | packpub list --username USER --password-stdin");
        expect(run.stderr).not.toContain(secret);
      }
    } finally {
      await cleanup();
    }
  });
});

describe('an HTTPS registry on loopback', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ tls: true });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('item 20: plain HTTP (automatic on loopback) is answered 400: the hint says --no-plain-http, which works', async () => {
    const { dir, cleanup } = await tempDir('packpub-tls-loop-');
    try {
      const pack = await writePack(join(dir, 'p'), { name: 'tls', version: '1.0.0' });
      const refused = await runCli(['push', pack, '--registry', `${registry.host}/t`]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`${registry.host} serves HTTPS, but packpub spoke plain HTTP to it`);
      expect(refused.stderr).toContain('hint: plain HTTP is automatic for localhost, 127.0.0.0/8 and [::1]: pass --no-plain-http to use HTTPS');
      const pushed = await runCli(['push', pack, '--registry', `${registry.host}/t`, '--no-plain-http', '--ca-file', registry.caFile ?? '', '--json']);
      expect(pushed.code, pushed.stderr).toBe(0);
      const digest = (JSON.parse(pushed.stdout) as { results: Array<{ digest: string }> }).results[0]?.digest;
      const listed = await runCli(['list', '--registry', `${registry.host}/t`, '--no-plain-http', '--ca-file', registry.caFile ?? '', '--json']);
      expect(JSON.parse(listed.stdout).packs[0].versions[0].digest).toBe(digest);
    } finally {
      await cleanup();
    }
  });
});
