import { access, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { VERSION } from '../../src/version.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';

/*
 * Flags, environment and packpub.yaml as every target command sees them: mistakes are usage errors
 * (exit 2) that say what is wrong before any work, and list/inspect/pull/tag honour --config/--target.
 */

let root: string;
let cleanup: () => Promise<void>;
let pack: string;

const exists = (path: string) => access(path).then(() => true, () => false);

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('packpub-target-options-e2e-'));
  pack = await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
  await writeFile(join(root, 'packpub.yaml'), 'targets:\n  local:\n    ociLayout: ./named-layout\ndefaults:\n  target: local\n');
});
afterAll(async () => cleanup());

describe('refused before any work (exit 2)', () => {
  it('refuses an empty --registry instead of publishing to ./oci-packs', async () => {
    const work = join(root, 'empty-flag');
    await writeFile(join(root, 'marker'), '');
    const result = await runCli(['push', pack, '--registry', ''], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--registry is empty');
    expect(await exists(join(root, 'oci-packs'))).toBe(false);
    expect(await exists(work)).toBe(false);
  });

  it('refuses PACKPUB_REGISTRY="" (an unset CI variable) instead of publishing to the default target', async () => {
    const result = await runCli(['push', pack], { cwd: root, env: { PACKPUB_REGISTRY: '' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PACKPUB_REGISTRY is set but empty');
    expect(await exists(join(root, 'named-layout'))).toBe(false);
    expect(await exists(join(root, 'oci-packs'))).toBe(false);
  });

  it('refuses a --registry that names spectro-packs/archive, with the corrected value in the hint', async () => {
    const result = await runCli(['push', pack, '--registry', '127.0.0.1:9/proj/spectro-packs/archive'], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('names the packs repository itself');
    expect(result.stderr).toContain('hint: use 127.0.0.1:9/proj: packpub adds /spectro-packs/archive/<name> itself');
    const pull = await runCli(['pull', 'hello:1.0.0', '--registry', '127.0.0.1:9/spectro-packs/archive/hello'], { cwd: root });
    expect(pull.code).toBe(2);
    expect(pull.stderr).toContain('hint: use 127.0.0.1:9:');
  });

  it.each([
    [['pull', 'hello:1.0.0', '--max-size=-1'], '--max-size must be a number above 0 and at most 1048576, got "-1"'],
    [['pull', 'hello:1.0.0', '--max-size', 'abc'], '--max-size must be a number above 0 and at most 1048576, got "abc"'],
    [['pull', 'hello:1.0.0', '--max-size', '1e400'], '--max-size must be a number above 0 and at most 1048576, got "1e400"'],
    [['push', 'hello', '--concurrency', 'abc'], '--concurrency must be a whole number from 1 to 64, got "abc"'],
    [['push', 'hello', '--concurrency', '0'], '--concurrency must be a whole number from 1 to 64, got "0"'],
    [['push', 'hello', '--concurrency', '100'], '--concurrency must be a whole number from 1 to 64, got "100"'],
    [['copy', 'hello:1.0.0', '--from', 'oci:a', '--to', 'oci:b', '--concurrency', '65'], '--concurrency must be a whole number from 1 to 64, got "65"'],
    [['list', '--retry-attempts', '0'], '--retry-attempts must be a whole number from 1 to 100, got "0"'],
    [['copy', 'hello:1.0.0', '--from', 'oci:a', '--to', 'oci:b', '--force', '--skip-existing'], '--force and --skip-existing contradict each other: choose one'],
    [['copy', 'hello:1.0.0', '--from', 'oci:a', '--to', 'oci:b', '--json', '--json-lines'], '--json and --json-lines contradict each other: choose one'],
  ])('%j', async (argv, message) => {
    const before = await readdir(root);
    const result = await runCli(argv, { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
    expect(await readdir(root)).toEqual(before);
  });
});

describe('--config / --target on every target command', () => {
  it('lists, inspects, tags and pulls through a target named in packpub.yaml (and its defaults.target)', async () => {
    expect((await runCli(['push', pack, '--target', 'local'], { cwd: root })).code).toBe(0);
    const listed = await runCli(['list', '--target', 'local'], { cwd: root });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^hello\s+1\.0\.0\s/m);
    const byDefault = await runCli(['list', '--json'], { cwd: root });
    expect(JSON.parse(byDefault.stdout).target).toBe(`oci-layout ${join(root, 'named-layout')}`);
    const tagged = await runCli(['tag', 'hello:1.0.0', 'stable', '--target', 'local'], { cwd: root });
    expect(tagged.code).toBe(0);
    const inspected = await runCli(['inspect', 'hello:stable', '--config', join(root, 'packpub.yaml'), '--json'], { cwd: root });
    expect(inspected.code).toBe(0);
    const pulled = await runCli(['pull', 'hello:1.0.0', '--target', 'local', '-o', join(root, 'pulled')], { cwd: root });
    expect(pulled.code).toBe(0);
    expect(await exists(join(root, 'pulled', 'pack.json'))).toBe(true);
  });

  it('refuses more than one target for a command that works on one', async () => {
    const result = await runCli(['list', '--target', 'local,local2'], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: --target names 2 targets (local, local2); this command works on one target\nhint: only push and palette sync take several targets\n');
  });
});

describe('connection flags on a local OCI layout', () => {
  it('are named as ignored, exit 0, and what is published is the same: --ca-file /nonexistent exited 0 silently, --insecure warned of a network', async () => {
    const layout = join(root, 'flags-layout');
    const pushed = await runCli(['push', pack, '--oci-layout', layout, '--ca-file', '/nonexistent/ca.pem', '--json']);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toBe(`warning: --ca-file ignored: the target (${layout}) is a local OCI layout, not a registry\n`);
    expect(JSON.parse(pushed.stdout).results[0].status).toBe('published');

    const listed = await runCli(['list', '--oci-layout', layout, '--insecure', '--no-plain-http', '-H', 'X-Team: packs', '--resolve', 'r.example:443:127.0.0.1']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toBe(`warning: --no-plain-http, --insecure, --header, --resolve ignored: the target (${layout}) is a local OCI layout, not a registry\n`);
    expect(listed.stdout).toMatch(/^hello\s+1\.0\.0\s/m);

    // A target of packpub.yaml that is a layout, and a copy side: the flags as given for that side.
    const named = await runCli(['list', '--target', 'local', '--ca-file', '/nonexistent/ca.pem'], { cwd: root });
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).toBe('warning: --ca-file ignored: target local is a local OCI layout, not a registry\n');
    const into = join(root, 'flags-copy');
    // A registry flavour and a Harbor project too (were ignored without a word).
    const copied = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${layout}`, '--to', `oci:${into}`, '--from-ca-file', '/nonexistent/ca.pem', '--to-insecure', '--to-registry-type', 'harbor', '--create-project']);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stderr).toBe(
      `warning: --from-ca-file ignored: --from (${layout}) is a local OCI layout, not a registry\nwarning: --to-insecure, --to-registry-type, --create-project ignored: --to (${into}) is a local OCI layout, not a registry\n`,
    );
    expect((await runCli(['list', '--oci-layout', into])).stdout).toMatch(/^hello\s+1\.0\.0\s/m);

    // No target given: the warning names the default layout it works on (was: "the target is a local OCI layout").
    const cwd = join(root, 'default-layout');
    await mkdir(cwd);
    const byDefault = await runCli(['push', pack, '--ca-file', '/nonexistent/ca.pem', '--insecure'], { cwd });
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(byDefault.stderr).toBe('warning: --ca-file, --insecure ignored: the target (./oci-packs) is a local OCI layout, not a registry\n');
    expect((await runCli(['list', '--oci-layout', join(cwd, 'oci-packs')])).stdout).toMatch(/^hello\s+1\.0\.0\s/m);

    // With a registry the missing file is still a usage error before any work.
    const registry = await runCli(['list', '--registry', '127.0.0.1:1/x', '--ca-file', '/nonexistent/ca.pem']);
    expect(registry.code).toBe(2);
    expect(registry.stderr).toContain('error: cannot read --ca-file /nonexistent/ca.pem');
  });
});

describe('--help shows exactly the flags of the command', () => {
  it('the retry flags mention Palette only on the commands that call it (push, palette): list..copy never do', async () => {
    const plain = [
      '--retry-attempts Attempts per request, first included (default 6; 1 to 100)',
      "--retry-deadline Seconds after which a request is not retried any more, and the longest a blob's whole download or upload, retries and resumes included, may take (default 600)",
      '--retry-delay Seconds to wait before the first retry, doubling per retry up to 3 s, with jitter; Retry-After',
    ];
    const palette = [
      '--retry-attempts Attempts per request, first included, Palette API calls too (default 6; 1 to 100)',
      'and for each whole Palette API answer (default 60)',
      "--retry-deadline Seconds after which a request is not retried any more, Palette API calls too, and the longest a blob's whole download or upload, retries and resumes included, may take (default 600)",
      '--retry-delay Seconds to wait before the first retry, doubling per retry up to 3 s, with jitter, Palette API calls too; Retry-After answers still win',
    ];
    const commands = ['list', 'inspect', 'pull', 'tag', 'delete', 'copy', 'push', 'palette'];
    for (const command of commands) {
      const help = await runCli([command, '--help']);
      expect(help.code).toBe(0);
      const text = help.stdout.replace(/\s+/g, ' ');
      const callsPalette = command === 'push' || command === 'palette';
      for (const line of callsPalette ? palette : plain) expect(text, command).toContain(line);
      if (!callsPalette) expect(text, command).not.toContain('Palette API');
      // The one pause before a listed tag that answered 404 is read again (list, copy, palette sync) is --retry-delay's too.
      // Said only where the command does it (was: "list and copy also wait..." on inspect, pull, tag and delete too).
      const reread = { list: 'list also waits', copy: 'copy also waits' }[command as 'list' | 'copy'];
      if (reread !== undefined) expect(text, command).toContain(`${reread} this long, once, before reading again a listed tag, or without a name a listed repository's tag list, that answered 404`);
      else if (callsPalette) expect(text, command).toContain('palette sync without pack names (not push --palette-sync) also waits this long, once, before reading again a listed tag that answered 404');
      else expect(text, command).not.toMatch(/also waits? this long|answered 404/);
    }
  });

  it('list has no push-only flags; copy has --retry-deadline and the true Harbor detection help', async () => {
    const list = await runCli(['list', '--help']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('--target');
    expect(list.stdout).toContain('--config');
    expect(list.stdout).not.toContain('--create-repositories');
    expect(list.stdout).not.toContain('--create-project');
    expect(list.stdout).not.toContain('--ecr-tag-mutability');
    const copy = await runCli(['copy', '--help']);
    expect(copy.code).toBe(0);
    expect(copy.stdout).toContain('--retry-deadline');
    expect(copy.stdout).toContain('--from-registry-type');
    const text = copy.stdout.replace(/\s+/g, ' ');
    expect(text).toContain("--to-registry-type Registry flavour; default: ecr for ECR host names, harbor when the registry answers Harbor's /api/v2.0/systeminfo");
    expect(text).not.toMatch(/-u, --(from|to)-username/);
    expect(copy.stdout).not.toContain('--target');
  });

  it('--help and --version after a command print on the run\'s own stdout (a program embedding main captures them)', async () => {
    const version = await runCli(['list', '--version']);
    expect(version).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^packpub <command> \[options\]\n\nPublish Spectro Cloud Palette packs to OCI registries\.\n/);
    expect(help.stdout).toMatch(/A forward proxy is taken from HTTPS_PROXY \/ HTTP_PROXY \/ NO_PROXY/);
    expect(help.stdout).toMatch(/Docs: README\.md\n$/);
  });

  it.each(['push', 'copy', 'list', 'inspect', 'delete', 'palette', 'validate', 'init', 'build'])(
    '%s declares --json once, from the output group of the flag table',
    async (command) => {
      const help = await runCli([command, '--help']);
      expect(help.code).toBe(0);
      const text = help.stdout;
      const lines = text.split('\n').filter((line) => /^\s+--json\s/.test(line));
      expect(lines).toHaveLength(1);
      expect(text.replace(/\s+/g, ' ')).toContain('--json Print one JSON document on stdout instead of text');
    },
  );
});
