import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { withAwsEnvironment } from '../support/ecr-standin.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * main() embedded in a program whose io.env is not process.env: the AWS SDK reads AWS_* from the process,
 * so the profile packpub decides on (--aws-profile, io.env AWS_PROFILE, the file's ecr.awsProfile) must be
 * handed to the SDK. The process here holds other static keys (AWS_ACCESS_KEY_ID) and no AWS_PROFILE; the
 * stand-in accepts only the profile's keys and records the access key id of every signed request.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-ecr-embedded-');
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  const world = await startEcrWorld(stack, 'testAKIDPROCESS', { accessKeys: ['testAKIDPACKS', 'testAKIDOTHER', 'testAKIDIOFILE', 'testAKIDIOCONFIG'] });
  const credentials = join(root, 'aws-credentials');
  await writeFile(
    credentials,
    ['[default]', 'aws_access_key_id = testAKIDDEFAULT', 'aws_secret_access_key = d', '[packs]', 'aws_access_key_id = testAKIDPACKS',
      'aws_secret_access_key = p', '[other]', 'aws_access_key_id = testAKIDOTHER', 'aws_secret_access_key = o', ''].join('\n'),
  );
  // The process's shared credentials file; startEcrWorld restores the variable.
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = credentials;
  // The embedded run's own files, named only in its io.env: the same profile name with other keys, and a
  // config file (read relative to the run's folder) whose profile holds keys of its own.
  const ioCredentials = join(root, 'io-credentials');
  await writeFile(ioCredentials, ['[packs]', 'aws_access_key_id = testAKIDIOFILE', 'aws_secret_access_key = i', ''].join('\n'));
  await mkdir(join(root, 'run', 'aws'), { recursive: true });
  await writeFile(join(root, 'run', 'aws', 'config'), ['[profile cfgonly]', 'aws_access_key_id = testAKIDIOCONFIG', 'aws_secret_access_key = c', ''].join('\n'));
  return { ...world, root, pack, ioCredentials };
});

const env = (extra: Record<string, string>) => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SOURCE_DATE_EPOCH: '1700000000', ...extra });
const ecrArgs = (base: string) => ['--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url, '--registry', `${w.host}/${base}`];

async function tagsIn(repo: string): Promise<string[]> {
  const res = await fetch(`${w.registry.url}/v2/${repo}/tags/list`);
  if (res.status === 404) return [];
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

/** The access key ids of the ECR API requests made since `from`. */
const keysSince = (from: number) => [...new Set(w.standin.calls.slice(from).map((c) => c.accessKeyId))];

describe('embedded main(): the AWS profile comes from io.env and the flags, not the process', () => {
  it('io.env AWS_PROFILE=packs (the process has none): the SDK signs with the packs profile\'s keys', async () => {
    expect(process.env['AWS_PROFILE']).toBeUndefined();
    const from = w.standin.calls.length;
    const run = await runCli(['push', w.pack, ...ecrArgs('embedded')], { env: env({ AWS_PROFILE: 'packs' }) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(keysSince(from)).toEqual(['testAKIDPACKS']);
    expect(await tagsIn('embedded/spectro-packs/archive/hello')).toEqual(['1.0.0']);
  });

  it('a packpub.yaml target with ecr.awsProfile: io.env AWS_PROFILE beats it, and the file\'s profile is used without one', async () => {
    const config = join(w.root, 'packpub.yaml');
    await writeFile(
      config,
      ['targets:', '  ecr:', `    registry: ${w.host}/configured`, '    resolve:', `      - ${w.resolve}`, '    tls:', '      plainHttp: true',
        '    ecr:', `      endpoint: ${w.standin.url}`, '      awsProfile: packs', ''].join('\n'),
    );
    let from = w.standin.calls.length;
    const other = await runCli(['push', w.pack, '--config', config, '--target', 'ecr'], { env: env({ AWS_PROFILE: 'other' }) });
    expect(other.stderr).toBe('');
    expect(other.code).toBe(0);
    expect(keysSince(from)).toEqual(['testAKIDOTHER']);
    expect(await tagsIn('configured/spectro-packs/archive/hello')).toEqual(['1.0.0']);

    from = w.standin.calls.length;
    const packs = await runCli(['push', w.pack, '--config', config, '--target', 'ecr', '--force'], { env: env({}) });
    expect(packs.stderr).toBe('');
    expect(packs.code).toBe(0);
    expect(keysSince(from)).toEqual(['testAKIDPACKS']);
  });

  it('io.env AWS_SHARED_CREDENTIALS_FILE: the SDK reads that file, not the process\'s (which defines the same profile)', async () => {
    const from = w.standin.calls.length;
    const run = await runCli(['push', w.pack, ...ecrArgs('iofile')], { env: env({ AWS_PROFILE: 'packs', AWS_SHARED_CREDENTIALS_FILE: w.ioCredentials }) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(keysSince(from)).toEqual(['testAKIDIOFILE']);
    expect(await tagsIn('iofile/spectro-packs/archive/hello')).toEqual(['1.0.0']);
  });

  it('io.env AWS_CONFIG_FILE, relative to the run\'s folder: its profile is used; a profile only the process\'s files have is not', async () => {
    const from = w.standin.calls.length;
    const run = await runCli(['push', w.pack, ...ecrArgs('ioconfig')], { cwd: join(w.root, 'run'), env: env({ AWS_PROFILE: 'cfgonly', AWS_CONFIG_FILE: join('aws', 'config') }) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(keysSince(from)).toEqual(['testAKIDIOCONFIG']);
    expect(await tagsIn('ioconfig/spectro-packs/archive/hello')).toEqual(['1.0.0']);

    const other = await runCli(['push', w.pack, ...ecrArgs('ioother')], { env: env({ AWS_PROFILE: 'other', AWS_SHARED_CREDENTIALS_FILE: w.ioCredentials }) });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^FAILED hello:1\.0\.0: ECR provider: AWS profile "other" gives no credentials to call ecr:\w+ for /);
    expect(await tagsIn('ioother/spectro-packs/archive/hello')).toEqual([]);
  });

  it('an unknown profile in io.env: that pack fails (exit 1) naming the profile, no ECR call, nothing pushed', async () => {
    const from = w.standin.calls.length;
    const run = await runCli(['push', w.pack, ...ecrArgs('unknown')], { env: env({ AWS_PROFILE: 'nosuch' }) });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^FAILED hello:1\.0\.0: ECR provider: AWS profile "nosuch" gives no credentials to call ecr:\w+ for /);
    expect(run.stderr).toContain('AWS_SHARED_CREDENTIALS_FILE');
    expect(w.standin.calls.length).toBe(from);
    expect(await tagsIn('unknown/spectro-packs/archive/hello')).toEqual([]);
  });

  // An SSO profile not signed in (or whose session ended: hours after `aws sso login`) is defined: it read "gives no
  // credentials ... check its name, and that the shared credentials or config file defines it". The session names are
  // this file's own, so no token the machine's ~/.aws/sso/cache may hold is theirs.
  it('an SSO profile not signed in (sso-session and legacy forms): exit 1 saying so and naming aws sso login, no ECR call, nothing pushed', async () => {
    const config = join(w.root, 'sso-config');
    await writeFile(
      config,
      ['[profile ssonew]', 'sso_session = packpub-test-sso-7d2f', 'sso_account_id = 123456789012', 'sso_role_name = Publisher', 'region = us-east-1',
        '[sso-session packpub-test-sso-7d2f]', 'sso_start_url = https://packpub-test-7d2f.awsapps.com/start', 'sso_region = us-east-1',
        '[profile ssolegacy]', 'sso_start_url = https://packpub-test-7d2f-legacy.awsapps.com/start', 'sso_region = us-east-1', 'sso_account_id = 123456789012',
        'sso_role_name = Publisher', 'region = us-east-1',
        '[profile ssobroken]', 'sso_start_url = https://packpub-test-7d2f-broken.awsapps.com/start', 'sso_region = us-east-1', 'sso_account_id = 123456789012', ''].join('\n'),
    );
    for (const profile of ['ssonew', 'ssolegacy']) {
      const from = w.standin.calls.length;
      // The SDK's SSO provider reads the config file the process's environment names, whatever it is handed.
      const run = await withAwsEnvironment({ AWS_CONFIG_FILE: config }, () => runCli(['push', w.pack, ...ecrArgs(`sso-${profile}`), '--aws-profile', profile], { env: env({ AWS_CONFIG_FILE: config }) }));
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^FAILED hello:1\\.0\\.0: ECR provider: the SSO session of AWS profile "${profile}" is not signed in or has ended, so it gives no credentials to call ecr:\\w+ for [^:]+:\\d+: The SSO session`));
      expect(run.stderr).toContain(`hint: sign in again: aws sso login --profile ${profile}, then run packpub again`);
      expect(run.stderr).not.toContain('check its name');
      expect(w.standin.calls.length).toBe(from);
      expect(await tagsIn(`sso-${profile}/spectro-packs/archive/hello`)).toEqual([]);
    }
    // A profile set up wrong (no sso_role_name): signing in cannot help, so it is not said to.
    const broken = await withAwsEnvironment({ AWS_CONFIG_FILE: config }, () => runCli(['push', w.pack, ...ecrArgs('sso-broken'), '--aws-profile', 'ssobroken'], { env: env({ AWS_CONFIG_FILE: config }) }));
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^FAILED hello:1\.0\.0: ECR provider: AWS profile "ssobroken" gives no credentials to call ecr:\w+ for /);
    expect(broken.stderr).not.toContain('sso login');
  });
});
