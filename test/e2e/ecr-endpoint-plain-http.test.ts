import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';
import { helloPack } from '../support/published.js';
import { freePort } from '../support/registry.js';

/*
 * `--ecr-endpoint http://<host>` (or AWS_ENDPOINT_URL_ECR) of a host off this machine was taken as given: every ECR
 * API call went in clear text, with the AWS access key id, the request signature and the session token, and
 * GetAuthorizationToken's answer, the registry password for 12 hours, came back the same way. Now refused before
 * anything is sent (exit 2), as an http:// Palette endpoint and Basic auth over plain HTTP are; a stand-in on a
 * loopback address still may use http://, and so may one reached with --plain-http given (a registry plain HTTP too).
 * The host named is never reached: `.invalid` does not resolve.
 */

const OFF_MACHINE = 'http://ecr-api.packpub-test.invalid:4566';

describe('an ECR API endpoint of plain HTTP off this machine', () => {
  const w = setup(async (stack) => ({ ...(await startEcrWorld(stack, 'testAKIDPLAINHTTP')), ...(await helloPack(stack)) }));
  const env = () => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SOURCE_DATE_EPOCH: '1700000000' });

  it('is refused before anything is sent, from the flag or the environment (was: SigV4 calls and the token in clear text)', async () => {
    const cases: [string[], NodeJS.ProcessEnv, string][] = [
      [['--ecr-endpoint', OFF_MACHINE], {}, '--ecr-endpoint / ecr.endpoint / AWS_ENDPOINT_URL_ECR'],
      [[], { AWS_ENDPOINT_URL_ECR: OFF_MACHINE }, '--ecr-endpoint / ecr.endpoint / AWS_ENDPOINT_URL_ECR'],
      [[], { AWS_ENDPOINT_URL: `${OFF_MACHINE}/` }, 'AWS_ENDPOINT_URL'],
    ];
    for (const [flags, extra, named] of cases) {
      const run = await runCli(['push', w.pack, '--registry', `${w.host}/plain`, '--resolve', w.resolve, '--request-timeout', '5', ...flags], { env: { ...env(), ...extra } });
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toContain(
        `refusing to call the ECR API at http://ecr-api.packpub-test.invalid:4566 over plain HTTP (${named}): the AWS request signatures and session token, and the registry password it answers with, would cross the network in clear text`,
      );
      expect(run.stderr).toContain('hint: use https://');
      // copy has no --plain-http: the hint names its per-side flags too.
      expect(run.stderr).toContain('(copy: --from-plain-http or --to-plain-http for that side)');
    }
    // Nothing reached the registry nor the ECR API (the loopback stand-ins): no repository, no call.
    expect(w.standin.calls).toEqual([]);
    expect(w.standin.repositories.size).toBe(0);
    expect(w.proxy.requests).toEqual([]);
  });

  // STS for --aws-role-arn or web identity: the base credentials' signature and session token (or the OIDC token) go, the
  // role's credentials come back. It was asked in clear text where the ECR API's endpoint was refused.
  it('an STS endpoint of plain HTTP off this machine is refused too, for --aws-role-arn and web identity (was: asked in clear text)', async () => {
    const sts = 'http://sts.packpub-test.invalid:4566';
    const keys = { AWS_ACCESS_KEY_ID: 'testAKIDPLAINHTTP', AWS_SECRET_ACCESS_KEY: 'testAKIDPLAINHTTP-secret-not-real', AWS_ENDPOINT_URL_STS: sts };
    const role = 'arn:aws:iam::123456789012:role/publisher';
    const cases: [string[], NodeJS.ProcessEnv, string][] = [
      [['--aws-role-arn', role], keys, 'the request signatures and session token'],
      [[], { AWS_WEB_IDENTITY_TOKEN_FILE: join(w.root, 'oidc-token'), AWS_ROLE_ARN: role, AWS_ENDPOINT_URL_STS: sts }, 'the web identity token'],
    ];
    for (const [flags, extra, what] of cases) {
      const run = await runCli(['push', w.pack, '--registry', `${w.host}/plain-sts`, '--resolve', w.resolve, '--ecr-endpoint', w.standin.url, '--request-timeout', '5', ...flags], { env: { ...env(), ...extra } });
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toContain(`refusing to call STS at ${new URL(sts).origin} over plain HTTP (AWS_ENDPOINT_URL_STS): ${what}, and the role's credentials it answers with, would cross the network in clear text`);
      expect(run.stderr).toContain('hint: use https://');
    }
    expect(w.standin.calls).toEqual([]);
    expect(w.standin.repositories.size).toBe(0);
    expect(w.proxy.requests).toEqual([]);
  });

  // An endpoint with user:password@ (a gateway in front of the API taking Basic credentials, which the SDK sends): the
  // messages naming the endpoint printed the password ("cannot reach the ECR API at http://user:<password>@...").
  it('an endpoint with user:password@ is named without them in messages, --debug and --json (exit 1)', async () => {
    const port = await freePort();
    const password = 'gw-pass-5e1f';
    const run = await runCli(['list', '--registry', `${w.host}/plain`, '--resolve', w.resolve, '--ecr-endpoint', `http://gw-user:${password}@127.0.0.1:${port}`, '--request-timeout', '5', '--retry-attempts', '1', '--json', '--debug'], { env: env() });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`cannot reach the ECR API at http://***@127.0.0.1:${port}/ (ECONNREFUSED)`);
    expect(run.stdout + run.stderr).not.toContain(password);
  });

  it('a loopback stand-in over http://, or --plain-http given, is not refused', async () => {
    const loopback = await runCli(['push', w.pack, '--registry', `${w.host}/plain`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url], { env: env() });
    expect(loopback.code, loopback.stdout + loopback.stderr).toBe(0);
    expect([...w.standin.repositories.keys()]).toContain('plain/spectro-packs/archive/hello');
    const optedIn = await runCli(['list', '--registry', `${w.host}/plain`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', OFF_MACHINE, '--request-timeout', '5', '--retry-attempts', '1'], { env: env() });
    expect(optedIn.stderr).not.toContain('refusing to call the ECR API');
  });
});
