import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry } from '../support/registry.js';
import { runChild, type ChildFailure } from '../support/spawner.js';
import { stage } from '../support/stage.js';

/*
 * A CI container run as a user its image does not know (`docker run --user 1001`, a CI agent's uid) with HOME
 * unset: Node's os.homedir() throws, and every command (validate, list, push, login ...) ended with Node's stack
 * trace ("uv_os_homedir returned ENOENT"), exit 1, before reading its command line. Now the commands run without
 * the cache folder and the default Docker config (nothing stored there, as when the file is missing); what needs
 * a home folder says so: `~` in a path, login's default Docker config.
 */

const stack = stage();
/** A uid no passwd entry names. */
const NOBODY_KNOWN = '48611';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built CLI as that user, HOME unset, in `cwd`; TMPDIR a folder it may write. */
async function runHomeless(args: string[], cwd: string, stdin = '', more: NodeJS.ProcessEnv = {}): Promise<Run> {
  const env = { PATH: process.env['PATH'], TMPDIR: cwd, ...more };
  // The capabilities that let it read and write the test's folders (root's, mode 0700) are kept: only the home folder is missing.
  const caps = '+dac_override,+dac_read_search';
  const setpriv = ['--reuid', NOBODY_KNOWN, '--regid', NOBODY_KNOWN, '--clear-groups', '--inh-caps', caps, '--ambient-caps', caps, process.execPath, BIN, ...args];
  return runChild('setpriv', setpriv, { cwd, env, input: stdin }).then(
    (r) => ({ code: 0, stdout: r.stdout.toString(), stderr: r.stderr.toString() }),
    (err: ChildFailure) => ({ code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout.toString(), stderr: err.stderr.toString() }),
  );
}

describe('HOME unset, and a user the system has no home folder for', () => {
  it('validate, push to a registry and list it: exit 0, as with a home folder (no cache, no Docker config)', async () => {
    const root = await stack.tempDir('packpub-no-home-');
    const pack = await writePack(join(root, 'pack'), { name: 'no-home', version: '1.0.0' });
    const registry = await sharedRegistry();
    const at = `${registry.host}/${registry.base}/no-home`;
    const validate = await runHomeless(['validate', pack], root);
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stderr).not.toContain('uv_os_homedir');
    const push = await runHomeless(['push', pack, '--registry', at], root);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain(`published no-home:1.0.0 -> ${at}/spectro-packs/archive/no-home:1.0.0`);
    const list = await runHomeless(['list', '--registry', at, '--json'], root);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { packs: Array<{ name: string }> }).packs.map((p) => p.name)).toEqual(['no-home']);
  });

  it('what needs a home folder says so: `~` in a path (exit 2), login without DOCKER_CONFIG (exit 1)', async () => {
    const root = await stack.tempDir('packpub-no-home-');
    const layout = await runHomeless(['list', '--oci-layout=~/layout'], root);
    expect(layout).toMatchObject({ code: 2, stdout: '' });
    expect(layout.stderr).toBe("error: ~ names no folder: HOME is not set, and this user (uid 48611) has no home folder in the system's records\nhint: set HOME, or give the path without ~\n");
    const registry = await sharedRegistry();
    const login = await runHomeless(['login', registry.host, '-u', 'ci', '--password-stdin'], root, 'no-home-secret');
    expect(login).toMatchObject({ code: 1, stdout: '' });
    expect(login.stderr).toBe("error: no Docker config: HOME is not set, and this user (uid 48611) has no home folder in the system's records\nhint: set HOME or DOCKER_CONFIG, or give --registry-config FILE\n");
  });

  it('an ECR registry says the AWS SDK needs a home folder (exit 2; was: the SDK\'s error, then Node\'s stack trace of an uncaught one)', async () => {
    const root = await stack.tempDir('packpub-no-home-');
    const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
    // Nothing leaves the machine: the registry host is mapped to loopback, the ECR API is a closed loopback port.
    const aws = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIANOHOMEEXAMPLE', AWS_SECRET_ACCESS_KEY: 'no-home-secret' };
    const list = await runHomeless(['list', '--registry', `${host}/packs`, '--resolve', `${host}:443:127.0.0.1`, '--ecr-endpoint', 'http://127.0.0.1:1', '--retry-attempts', '1'], root, '', aws);
    expect(list).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "error: the AWS SDK needs a home folder: HOME is not set, and this user (uid 48611) has no home folder in the system's records\n" +
        'hint: set HOME to a folder (the SDK reads .aws/config and .aws/credentials there, when present)\n',
    });
  });
});
