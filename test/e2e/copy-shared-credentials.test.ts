import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { registryAdmin } from '../support/registry-admin.js';
import { startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * Copy sends the shared PACKPUB_USERNAME / PACKPUB_PASSWORD to each side without a credential of its
 * own. Between two registry hosts that sent the source's secret to the destination (from Harbor to ECR: the
 * robot's secret to AWS), which then said "credentials rejected", while push refuses the shared pair for several
 * targets for exactly that reason. Now refused before any request, exit 2; one host (a promotion between two
 * base paths or projects of one registry) still takes it.
 */

const A_SECRET = 'secret-of-registry-a';
const B_SECRET = 'secret-of-registry-b';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-copy-shared-');
  const a = stack.add(await startRegistry({ auth: 'htpasswd', users: { alice: A_SECRET } }));
  const b = stack.add(await startRegistry({ auth: 'htpasswd', users: { bob: B_SECRET } }));
  // What reached B's host, Authorization values included.
  const seenByB: string[] = [];
  const proxyB = stack.add(
    await startRecordingProxy(b.host, {
      onRequest: (r) => {
        seenByB.push(String(r.headers['authorization'] ?? ''));
        return 'pass';
      },
    }),
  );
  const pack = await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
  const env = { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), PACKPUB_USERNAME: 'alice', PACKPUB_PASSWORD: A_SECRET };
  const pushed = await runCli(['push', pack, '--registry', `${a.host}/stage`], { env });
  if (pushed.code !== 0) throw new Error(pushed.stderr);
  await writeFile(
    join(root, 'packpub.yaml'),
    `targets:\n  staging:\n    registry: ${a.host}/stage\n  prod:\n    registry: ${proxyB.host}/prod\n    auth:\n      username: bob\n      passwordEnv: PROD_PASSWORD\n`,
  );
  return { root, a, b, proxyB, seenByB, env };
});
const REPO = (base: string) => `${base}/spectro-packs/archive/hello`;

describe('copy between two registry hosts with only the shared PACKPUB_USERNAME / PACKPUB_PASSWORD', () => {
  it('is refused before any request, exit 2; the destination never sees the source secret (was: sent to it, "credentials rejected", exit 1)', async () => {
    w.seenByB.length = 0;
    const run = await runCli(['copy', 'hello:1.0.0', '--from', `${w.a.host}/stage`, '--to', `${w.proxyB.host}/prod`], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain(`error: PACKPUB_USERNAME / PACKPUB_PASSWORD would be sent to both sides of the copy, ${w.a.host} and ${w.proxyB.host}`);
    expect(run.stderr).toContain('PACKPUB_TO_USERNAME + PACKPUB_TO_PASSWORD');
    expect(run.stdout + run.stderr).not.toContain(A_SECRET);
    expect(w.seenByB).toEqual([]);
    expect(await registryAdmin(w.b, () => basic('bob', B_SECRET)).digestOf(REPO('prod'), '1.0.0')).toBeUndefined();
  });

  it('named targets of packpub.yaml: the shared pair would beat prod auth too, so it is refused the same way', async () => {
    w.seenByB.length = 0;
    const run = await runCli(['copy', 'hello:1.0.0', '--from', 'staging', '--to', 'prod'], { env: { ...w.env, PROD_PASSWORD: B_SECRET }, cwd: w.root });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain('would be sent to both sides of the copy');
    expect(w.seenByB).toEqual([]);
  });

  it('with the destination credential of its own, the copy runs: B gets only its own credential', async () => {
    w.seenByB.length = 0;
    const run = await runCli(['copy', 'hello:1.0.0', '--from', `${w.a.host}/stage`, '--to', `${w.proxyB.host}/prod`], {
      env: { ...w.env, PACKPUB_TO_USERNAME: 'bob', PACKPUB_TO_PASSWORD: B_SECRET },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(w.seenByB.filter((h) => h !== '').length).toBeGreaterThan(0);
    expect(w.seenByB.filter((h) => h !== '' && h !== basic('bob', B_SECRET))).toEqual([]);
    const admin = registryAdmin(w.a, () => basic('alice', A_SECRET));
    expect(await registryAdmin(w.b, () => basic('bob', B_SECRET)).digestOf(REPO('prod'), '1.0.0')).toBe(await admin.digestOf(REPO('stage'), '1.0.0'));
  });

  it('one registry host (a promotion between base paths) still takes the shared pair', async () => {
    const run = await runCli(['copy', 'hello:1.0.0', '--from', `${w.a.host}/stage`, '--to', `${w.a.host}/prod`], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const admin = registryAdmin(w.a, () => basic('alice', A_SECRET));
    expect(await admin.digestOf(REPO('prod'), '1.0.0')).toBe(await admin.digestOf(REPO('stage'), '1.0.0'));
  });
});
