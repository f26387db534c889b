import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { runCli } from '../support/cli.js';
import { RegistryReader } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';
import { helloPack } from '../support/published.js';

/*
 * An ECR target with the AWS identity named for packpub (--aws-role-arn, --aws-profile, ecr.awsRoleArn, ecr.awsProfile)
 * while the Docker config holds a token for the host (`aws ecr get-login-password | docker login` by another
 * identity, or the ecr-login helper on the default chain): the Docker config came first, so the push went with that
 * other identity's token, exit 0, and the named role was used only for the ECR API calls (CreateRepository): not the
 * identity the job asked for. Now the token minted with the named identity comes first; without one named, the
 * Docker config's token still comes before the one packpub would mint (as documented).
 */

const ROLE = 'arn:aws:iam::123456789012:role/packpub-publisher';

describe('an ECR push with the AWS identity named, and a Docker config token for the host', () => {
  const w = setup(async (stack) => ({ ...(await startEcrWorld(stack, 'testAKIDNAMEDFIRST')), ...(await helloPack(stack)) }));
  const args = (base: string) => ['--registry', `${w.host}/${base}`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url];

  it('--aws-role-arn: the role mints the registry token (was: the Docker config token of another identity used, exit 0)', async () => {
    const docker = join(w.root, 'docker');
    const env = { HOME: join(w.root, 'home'), DOCKER_CONFIG: docker, SOURCE_DATE_EPOCH: '1700000000' };
    // A token of the base identity, as a docker login of it would leave in the config.
    expect((await runCli(['push', w.pack, ...args('minted')], { env })).code).toBe(0);
    const token = w.standin.mintedSecrets()[0]!;
    await mkdir(docker, { recursive: true });
    await writeFile(join(docker, 'config.json'), JSON.stringify({ auths: { [w.host]: { auth: Buffer.from(`AWS:${token}`).toString('base64') } } }));

    process.env['AWS_ENDPOINT_URL_STS'] = w.standin.url;
    try {
      w.standin.calls.length = 0;
      const run = await runCli(['push', w.pack, ...args('role'), '--aws-role-arn', ROLE], { env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain('published hello:1.0.0');
      const minted = w.standin.calls.filter((c) => c.op === 'GetAuthorizationToken');
      // Was: no token asked for at all (the Docker config's was sent); the role only created the repositories.
      expect(w.standin.calls.some((c) => c.op === 'sts:AssumeRole' && c.body['RoleArn'] === ROLE)).toBe(true);
      expect(minted.map((c) => c.accessKeyId)).toEqual(['testASIAASSUMED']);
      expect([...(await new RegistryReader(w.registry.url).tagDigests('role')).keys()]).toEqual(['role/spectro-packs/archive/hello:1.0.0']);

      // No identity named: the Docker config's token comes first, as documented (no token minted).
      w.standin.calls.length = 0;
      const plain = await runCli(['push', w.pack, ...args('plain')], { env });
      expect(plain.code, plain.stderr).toBe(0);
      expect(w.standin.calls.filter((c) => c.op === 'GetAuthorizationToken')).toEqual([]);
    } finally {
      delete process.env['AWS_ENDPOINT_URL_STS'];
    }
  });
});
