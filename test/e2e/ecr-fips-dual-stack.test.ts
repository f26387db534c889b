import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEcrPackWorld } from '../support/ecr-proxy.js';
import { withAwsEnvironment } from '../support/ecr-standin.js';
import { runCli } from '../support/cli.js';
import { RegistryReader } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * ECR's FIPS (<account>.dkr.ecr-fips.<region>.amazonaws.com) and dual-stack (<account>.dkr-ecr.<region>.on.aws) registry
 * hosts with the ECR API endpoint given (--ecr-endpoint, AWS_ENDPOINT_URL_ECR: a VPC endpoint). packpub asked the SDK
 * for the FIPS or dual-stack endpoint beside the one given, which the SDK refuses ("Invalid Configuration: FIPS and
 * custom endpoint are not supported"): every such push failed, "ECR API call for ecr:GetAuthorizationToken failed
 * (EndpointError)". And a dual-stack host's token was refused, ECR naming its registry in the IPv4 form
 * (proxyEndpoint https://<account>.dkr.ecr.<region>.amazonaws.com, as the stand-in answers). Real @aws-sdk/client-ecr
 * against the ECR stand-in; the registry behind the ECR-like proxy is a real one. The same with the endpoint set in the
 * shared config file (`endpoint_url` in the profile, or in its `services` section for ecr), which the SDK reads too:
 * packpub, looking at the flag and the variables only, still asked for the flavour beside it (the same EndpointError).
 */

const w = setup((stack) => startEcrPackWorld(stack, 'testAKIDFIPSDUAL'));

const HOSTS = { fips: '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', 'dual-stack': '123456789012.dkr-ecr.us-east-1.on.aws' } as const;

describe('FIPS and dual-stack ECR hosts with the ECR API endpoint given', () => {
  for (const [kind, name] of Object.entries(HOSTS)) {
    it(`${kind}: --ecr-endpoint, AWS_ENDPOINT_URL_ECR and the config file's endpoint_url publish (exit 0), the token minted at the endpoint given`, async () => {
      const host = `${name}:${w.proxy.port}`;
      const reach = ['--resolve', `${host}:127.0.0.1`, '--plain-http'];
      const calls = w.standin.calls.length;
      const flag = await runCli(['push', w.pack, '--registry', `${host}/${kind}-flag`, ...reach, '--ecr-endpoint', w.standin.url], { env: w.env() });
      expect(flag.stderr).not.toContain('EndpointError');
      expect(flag.code, flag.stderr).toBe(0);
      expect(flag.stdout).toContain('published hello:1.0.0');
      // The SDK reads AWS_ENDPOINT_URL_ECR from the process's environment.
      const env = await withAwsEnvironment({ AWS_ACCESS_KEY_ID: 'testAKIDFIPSDUAL', AWS_SECRET_ACCESS_KEY: 'testAKIDFIPSDUAL-secret-not-real', AWS_ENDPOINT_URL_ECR: w.standin.url }, () =>
        runCli(['push', w.pack, '--registry', `${host}/${kind}-env`, ...reach], { env: { ...w.env(), AWS_ENDPOINT_URL_ECR: w.standin.url } }),
      );
      expect(env.code, env.stderr).toBe(0);
      // The endpoint in the shared config file: the profile's own endpoint_url (FIPS), its services section (dual-stack).
      const config = join(w.root, `${kind}-config`);
      const section = kind === 'fips' ? `[default]\nendpoint_url = ${w.standin.url}\n` : `[default]\nservices = standin\n\n[services standin]\necr =\n  endpoint_url = ${w.standin.url}\n`;
      await writeFile(config, section);
      const file = await withAwsEnvironment({ AWS_ACCESS_KEY_ID: 'testAKIDFIPSDUAL', AWS_SECRET_ACCESS_KEY: 'testAKIDFIPSDUAL-secret-not-real', AWS_CONFIG_FILE: config }, () =>
        runCli(['push', w.pack, '--registry', `${host}/${kind}-file`, ...reach], { env: { ...w.env(), AWS_CONFIG_FILE: config } }),
      );
      expect(file.stderr).not.toContain('EndpointError');
      expect(file.code, file.stderr).toBe(0);
      expect(w.standin.calls.slice(calls).filter((c) => c.op === 'GetAuthorizationToken')).toHaveLength(3);
      for (const base of [`${kind}-flag`, `${kind}-env`, `${kind}-file`]) {
        expect([...(await new RegistryReader(w.registry.url).tagDigests(base)).keys()]).toEqual([`${base}/spectro-packs/archive/hello:1.0.0`]);
      }
    });
  }
});
