import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokenRun, MutationPlan, onlyWhere, startAnswerFuzzer, type AnswerFuzzer, type Mutation } from '../support/answer-fuzzer.js';
import { runCli, type CliRun } from '../support/cli.js';
import { skipWaits } from '../support/clock.js';
import { startEcrProxy } from '../support/ecr-proxy.js';
import { startEcrStandin, TEST_ECR_HOST, useFakeAwsEnvironment } from '../support/ecr-standin.js';
import { startHarborStandin } from '../support/harbor-standin.js';
import { startPaletteStandin } from '../support/palette-standin.js';
import { Prng } from '../support/prng.js';
import { packTree } from '../support/push-setup.js';
import { RegistryReader, tokenHoldings, type RegistryHoldings } from '../support/registry-reader.js';
import { startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * A seeded fuzz of the answers of the APIs packpub talks to besides the distribution API: Harbor's REST API
 * (systeminfo probe, project check and creation, repository list, artifact delete), the ECR API through the
 * real @aws-sdk/client-ecr (GetAuthorizationToken, DescribeRepositories, CreateRepository, BatchDeleteImage,
 * ...) and Palette's (registry summary and creation, sync trigger and status, pack search). A fuzzer
 * (support/answer-fuzzer.ts) sits in front of each stand-in and mutates one to a few of its answers: statuses,
 * headers, bodies cut, reset, garbage or JSON of the wrong shape, enormous, empty, and with
 * PACKPUB_FUZZ_STALLS=1 answers that stall or drip. Each case runs one command and checks, reading the
 * registry (and the stand-in's own state) directly: the run ends, never crashes, exits 0 or 1 with an
 * `error:` line on failure, prints no secret, and exit 0 means what was asked is there.
 *
 * The suite runs two cases per API (one pack per world). A larger exploration:
 *   PACKPUB_FUZZ_CASES=200 PACKPUB_FUZZ_SEED=1000 npx vitest run test/e2e/fuzz-apis.test.ts -t harbor
 * PACKPUB_FUZZ_MUTATIONS (default 3), PACKPUB_FUZZ_STALLS=1 and PACKPUB_FUZZ_LOG=<file> as in fuzz-registry.
 * Explored at the time of writing (each API): seeds 100-159, 1000-1119 (~540 cases); with stalls 2000-2079
 * (Harbor, ECR; Palette ~20 of them: a stalled Palette answer costs its --request-timeout, 2 s here) and 4000-4017
 * (Palette); 5000-5099 (Harbor, ECR, with hang-ups). ~940 cases.
 */

const CASES = Number(process.env['PACKPUB_FUZZ_CASES'] ?? '2');
const FIRST_SEED = Number(process.env['PACKPUB_FUZZ_SEED'] ?? '1');
const MAX_MUTATIONS = Number(process.env['PACKPUB_FUZZ_MUTATIONS'] ?? '3');
const STALLS = process.env['PACKPUB_FUZZ_STALLS'] === '1';
const FLAGS = ['--request-timeout', '2', '--retry-deadline', '8', '--retry-attempts', '3'];
const USER = 'fuzz-admin';
const PASSWORD = `pw-${process.pid}-Hq4`;

const clock = skipWaits();

/** A case: what it ran, the mutations met, and the invariants it broke. */
interface Outcome {
  what: string;
  broken: string[];
}

/** Run `argv` against a fuzzer with `plan`; the run must end within 60 s (request timeouts are real). */
async function fuzzedRun(fuzz: AnswerFuzzer, plan: MutationPlan, match: (method: string, path: string) => boolean, argv: string[], env: NodeJS.ProcessEnv): Promise<CliRun | 'hung'> {
  fuzz.applied = [];
  fuzz.plan = onlyWhere(plan, match);
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), 60_000);
  });
  try {
    return await Promise.race([runCli([...argv, ...FLAGS], { env }), hang]);
  } finally {
    clearTimeout(timer);
    fuzz.plan = undefined;
  }
}

/** The generic checks of a finished case, plus `check` (what exit 0 must mean) when it exited 0. */
async function judge(fuzz: AnswerFuzzer, what: string, run: CliRun | 'hung', secrets: string[], check: () => Promise<string[]>, exits = [0, 1]): Promise<Outcome> {
  if (run === 'hung') return { what, broken: ['still running after 60 s'] };
  const log = process.env['PACKPUB_FUZZ_LOG'];
  if (log !== undefined) appendFileSync(log, `${what} [${fuzz.applied.join('; ')}] -> exit ${run.code} ${(/^(error: |[A-Z]+ .+?: )\S.*$/m.exec(run.stderr) ?? [run.stderr.trim().split('\n')[0] ?? ''])[0]}\n`);
  const broken = brokenRun(run, secrets, exits);
  if (run.code === 0) broken.push(...(await check()));
  return { what, broken: broken.map((b) => `${b} (exit ${run.code})\n  stderr: ${run.stderr.trim().split('\n').slice(0, 4).join('\n  ')}`) };
}

/** `repo/spectro-packs/archive/<name>:<version>` -> digest of a holdings map under `base`, keys without the base. */
function underBase(held: RegistryHoldings, base: string): Map<string, string> {
  return new Map([...held.tags].map(([k, v]) => [k.slice(base.length + 1), v]));
}

/**
 * What exit 0 must mean for `op`: `list` printed only true versions (a page saying "nothing more" cannot be
 * told from a true one), `delete` left `key` gone, a push left it at its reference digest.
 */
async function wrongAfter(op: string, stdout: string, key: string, expected: Map<string, string>, held: () => Promise<Map<string, string>>): Promise<string[]> {
  if (op === 'list') {
    const listed = JSON.parse(stdout) as { packs: Array<{ name: string; versions: Array<{ version: string; digest?: string }> }> };
    const got = listed.packs.flatMap((p) => p.versions.map((v) => `spectro-packs/archive/${p.name}:${v.version}=${v.digest ?? ''}`)).sort();
    const want = [...expected].map(([k, v]) => `${k}=${v}`);
    return got.some((g) => !want.includes(g)) ? [`exit 0 but listed ${got.join(', ')}`] : [];
  }
  const now = await held();
  if (op === 'delete') return now.has(key) ? [`exit 0 but ${key} is still there`] : [];
  return now.get(key) === expected.get(key) ? [] : [`exit 0 but ${key} is ${now.get(key) ?? 'missing'}, not ${expected.get(key) ?? '?'}`];
}

/** Run `cases` seeded cases of `fuzzCase`; expect no broken invariant and at least one mutated answer. */
async function explore(fuzz: AnswerFuzzer, fuzzCase: (seed: number) => Promise<Outcome>): Promise<void> {
  const broken: string[] = [];
  let mutated = 0;
  for (let seed = FIRST_SEED; seed < FIRST_SEED + CASES; seed++) {
    const outcome = await fuzzCase(seed);
    if (fuzz.applied.length > 0) mutated++;
    broken.push(...outcome.broken.map((b) => `${outcome.what} [${fuzz.applied.join('; ')}]: ${b}`));
  }
  if (process.env['PACKPUB_FUZZ_CASES'] !== undefined) console.log(`${CASES} cases, ${mutated} with a mutated answer, ${broken.length} violations`);
  expect(broken).toEqual([]);
  expect(mutated).toBeGreaterThan(0);
}

/**
 * What the blocks share: one pack tree, and one Harbor stand-in (a docker-registry behind its token server)
 * with the tree pushed to project `ref`. The Harbor block fuzzes its REST API; the Palette block publishes
 * straight to the registry behind it (a token-auth registry like any other, under bases of its own). The
 * ECR block needs a registry without auth behind its proxy, so it has its own. A clean push gives the same
 * digests on every target (reproducible builds), so `expected` is every block's reference.
 */
const shared = setup(async (stack) => {
  const harbor = stack.add(await startHarborStandin({ users: { [USER]: PASSWORD }, projects: ['ref'] }));
  const work = await packTree(stack, 1, { seed: 11, prefix: 'fz', payloadBytes: [1500, 2500] });
  const home = { HOME: join(work.root, 'home'), DOCKER_CONFIG: join(work.root, 'docker') };
  const env = { ...work.env, ...home, PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD };
  const ref = await runCli(['push', work.tree, '--recursive', '--registry', `${harbor.host}/ref`], { env });
  if (ref.code !== 0) throw new Error(`reference push failed: ${ref.stderr}`);
  const holdings = (base: string) => tokenHoldings(harbor.registry.url, harbor.token.tokenFor, base);
  const expected = underBase(await holdings('ref'), 'ref');
  return { harbor, work, home, env, holdings, expected };
}, 60_000);

/** A seeded case's draws, in the order the explored seeds were drawn (the operation, then the pack), and its base `<prefix><seed>`. */
function drawCase<Op extends string>(seed: number, ops: readonly Op[], prefix = 'c') {
  const prng = new Prng(seed);
  const op = prng.pick(ops);
  const pack = prng.pick(shared.work.packs);
  return { prng, op, pack, key: `spectro-packs/archive/${pack.name}:${pack.version}`, base: `${prefix}${seed}` };
}

/**
 * Run `argv` with `mutation` on the first answer `match` picks (then true answers): a case the fuzz found,
 * replayed on purpose. `applied` says the mutation was met.
 */
async function onceOn(fuzz: AnswerFuzzer, match: (method: string, path: string, headers: Readonly<Record<string, unknown>>) => boolean, mutation: Mutation, argv: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  let left = 1;
  fuzz.applied = [];
  fuzz.plan = { decide: (method, path, headers = {}) => (match(method, path, headers) && left-- > 0 ? mutation : undefined) };
  try {
    return await runCli([...argv, ...FLAGS], { env });
  } finally {
    fuzz.plan = undefined;
  }
}

/** A delete replayed with onceOn: the run, the version's `name:version` and reference, and what the registry holds afterwards. */
interface DeleteCase {
  run: CliRun;
  id: string;
  reference: string;
  held: Map<string, string>;
}

/** Exit 0 with the version's `deleted` line, and the registry really no longer holds it. */
function expectDeleted({ run, id, reference, held }: DeleteCase): void {
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toContain(`deleted ${id}: ${reference} (`);
  expect(held.has(`spectro-packs/archive/${id}`)).toBe(false);
}

/** Exit 1 with `message` on the version's FAILED line, and no `deleted` line. */
function expectDeleteFailed({ run, id }: DeleteCase, message: string): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toContain(`FAILED ${id}: ${message}`);
  expect(run.stdout).not.toContain(`deleted ${id}`);
}

const plan = (seed: number, prng: Prng) => new MutationPlan(seed, prng.pick([0.25, 0.5, 1]), prng.int(1, MAX_MUTATIONS), { stalls: STALLS });

describe('Harbor REST answers', () => {
  const w = setup(async (stack) => {
    const { harbor, work, env, holdings, expected } = shared;
    return { harbor, fuzz: stack.add(await startAnswerFuzzer(harbor.host)), work, env, holdings, expected };
  });

  async function fuzzCase(seed: number): Promise<Outcome> {
    const { prng, op, pack, key, base } = drawCase(seed, ['push-existing', 'push-create', 'list', 'delete'] as const);
    // Half the cases say it is Harbor; the others leave it to the systeminfo probe.
    const typed = prng.float() < 0.5 ? ['--registry-type', 'harbor'] : [];
    if (op === 'push-existing' || op === 'delete') w.harbor.projects.add(base);
    if (op === 'delete') {
      const pre = await runCli(['push', pack.dir, '--registry', `${w.harbor.host}/${base}`], { env: w.env });
      if (pre.code !== 0) return { what: `seed ${seed} ${op}`, broken: [`setup push failed: ${pre.stderr}`] };
    }
    const at = (b: string) => ['--registry', `${w.fuzz.host}/${b}`, ...typed];
    const argv =
      op === 'push-existing' ? ['push', pack.dir, ...at(base)]
      : op === 'push-create' ? ['push', pack.dir, ...at(base), '--create-project']
      : op === 'list' ? ['list', ...at('ref'), '--json']
      : ['delete', `${pack.name}:${pack.version}`, '--force', ...at(base)];
    const run = await fuzzedRun(w.fuzz, plan(seed, prng), (_m, path) => path.startsWith('/api/'), argv, w.env);
    return judge(w.fuzz, `seed ${seed} ${op} ${typed.length > 0 ? 'typed' : 'probed'} ${pack.name}`, run, [PASSWORD], async () => {
      return run === 'hung' ? [] : wrongAfter(op, run.stdout, key, w.expected, async () => underBase(await w.holdings(base), base));
    });
  }

  it(`keeps its invariants on ${CASES} seeded cases from seed ${FIRST_SEED}`, () => explore(w.fuzz, fuzzCase), 600_000);

  describe('what the fuzz found, one case each', () => {
    /** Push the first pack to project `base`, then delete it through the fuzzer with `mutation` on the first artifact DELETE's answer. */
    const deleteWith = async (base: string, mutation: Mutation): Promise<DeleteCase> => {
      const pack = w.work.packs[0]!;
      w.harbor.projects.add(base);
      const pre = await runCli(['push', pack.dir, '--registry', `${w.harbor.host}/${base}`], { env: w.env });
      expect(pre.code, pre.stderr).toBe(0);
      const isDelete = (method: string, path: string) => method === 'DELETE' && path.startsWith('/api/');
      const argv = ['delete', `${pack.name}:${pack.version}`, '--force', '--registry', `${w.fuzz.host}/${base}`, '--registry-type', 'harbor'];
      const run = await onceOn(w.fuzz, isDelete, mutation, argv, w.env);
      expect(w.fuzz.applied).toEqual([expect.stringMatching(/^DELETE \/api\/v2\.0\/projects\/.+ -> /)]);
      const id = `${pack.name}:${pack.version}`;
      return { run, id, reference: `${w.fuzz.host}/${base}/spectro-packs/archive/${id}`, held: underBase(await w.holdings(base), base) };
    };

    it.each([
      ['empty', { kind: 'empty' }],
      ['206', { kind: 'status', status: 206 }],
    ] as const)('the systeminfo probe answered once %s: asked again, Harbor found, --create-project creates the project and publishes (was "credentials rejected or no push permission", exit 1)', async (label, mutation) => {
      const pack = w.work.packs[0]!;
      const base = `probe-${label}`;
      const isProbe = (method: string, path: string) => method === 'GET' && path === '/api/v2.0/systeminfo';
      const run = await onceOn(w.fuzz, isProbe, mutation as Mutation, ['push', pack.dir, '--registry', `${w.fuzz.host}/${base}`, '--create-project'], w.env);
      expect(w.fuzz.applied).toEqual([expect.stringMatching(/^GET \/api\/v2\.0\/systeminfo /)]);
      expect(run.code, run.stderr).toBe(0);
      expect(w.harbor.projects.has(base)).toBe(true);
      const key = `spectro-packs/archive/${pack.name}:${pack.version}`;
      expect(underBase(await w.holdings(base), base).get(key)).toBe(w.expected.get(key));
    });

    it('the systeminfo probe answered 503 while Harbor restarts (400 ms): asked again after the backoff pauses, Harbor found, project created, published (was: three asks at once, taken for generic, "credentials rejected or no push permission")', async () => {
      const pack = w.work.packs[0]!;
      const base = 'probe-restarting';
      let since: number | undefined;
      w.fuzz.applied = [];
      // The test clock: waits are skipped, and its time moves by what was waited.
      w.fuzz.plan = {
        decide: (method, path) => {
          if (method !== 'GET' || path !== '/api/v2.0/systeminfo') return undefined;
          since ??= clock.now();
          return clock.now() - since < 400 ? { kind: 'status', status: 503 } : undefined;
        },
      };
      let run;
      try {
        run = await runCli(['push', pack.dir, '--registry', `${w.fuzz.host}/${base}`, '--create-project', ...FLAGS], { env: w.env });
      } finally {
        w.fuzz.plan = undefined;
      }
      expect(w.fuzz.applied.length).toBeGreaterThan(0);
      expect(run.code, run.stderr).toBe(0);
      expect(w.harbor.projects.has(base)).toBe(true);
      const key = `spectro-packs/archive/${pack.name}:${pack.version}`;
      expect(underBase(await w.holdings(base), base).get(key)).toBe(w.expected.get(key));
    });

    it('a delete whose answer was lost is done when its retry finds the artifact gone (was exit 1 "deleted meanwhile?")', async () => {
      expectDeleted(await deleteWith('lost-answer', { kind: 'hang-up' }));
    });

    it('a 404 to the first attempt of a delete is still "no longer there": exit 1', async () => {
      const failed = await deleteWith('first-404', { kind: 'status', status: 404 });
      expectDeleteFailed(failed, `${failed.reference} is no longer on ${w.fuzz.host}: deleted meanwhile?`);
    });
  });
});

describe('ECR API answers (through @aws-sdk/client-ecr)', () => {
  const w = setup(async (stack) => {
    stack.defer(useFakeAwsEnvironment('testAKIDFUZZAPI'));
    const registry = stack.add(await startRegistry({ storage: 'filesystem' }));
    // With `images`, BatchDeleteImage deletes in the registry behind the ECR proxy.
    const standin = stack.add(await startEcrStandin({ images: registry }));
    const proxy = stack.add(await startEcrProxy({ upstream: registry.url, standin }));
    const world = { registry, standin, host: `${TEST_ECR_HOST}:${proxy.port}`, resolve: `${TEST_ECR_HOST}:${proxy.port}:127.0.0.1` };
    const fuzz = stack.add(await startAnswerFuzzer(new URL(standin.url).host));
    const work = shared.work;
    const env = { ...work.env, ...shared.home };
    const args = (base: string, endpoint: string) => ['--registry', `${world.host}/${base}`, '--resolve', world.resolve, '--plain-http', '--ecr-endpoint', endpoint];
    const ref = await runCli(['push', work.tree, '--recursive', ...args('ref', world.standin.url)], { env });
    if (ref.code !== 0) throw new Error(`reference push failed: ${ref.stderr}`);
    const reader = new RegistryReader(world.registry.url);
    const expected = underBase(await reader.holdings('ref'), 'ref');
    return { ...world, fuzz, work, env, args, reader, expected };
  }, 60_000);

  async function fuzzCase(seed: number): Promise<Outcome> {
    const { prng, op, pack, key, base } = drawCase(seed, ['push', 'push-populated', 'list', 'delete'] as const);
    if (op === 'push-populated' || op === 'delete') {
      const pre = await runCli(['push', pack.dir, ...w.args(base, w.standin.url)], { env: w.env });
      if (pre.code !== 0) return { what: `seed ${seed} ${op}`, broken: [`setup push failed: ${pre.stderr}`] };
    }
    const at = (b: string) => w.args(b, w.fuzz.url);
    const argv =
      op === 'push' || op === 'push-populated' ? ['push', pack.dir, ...at(base)]
      : op === 'list' ? ['list', ...at('ref'), '--json']
      : ['delete', `${pack.name}:${pack.version}`, '--force', ...at(base)];
    const run = await fuzzedRun(w.fuzz, plan(seed, prng), () => true, argv, w.env);
    return judge(w.fuzz, `seed ${seed} ${op} ${pack.name}`, run, w.standin.mintedSecrets(), async () => {
      return run === 'hung' ? [] : wrongAfter(op, run.stdout, key, w.expected, async () => underBase(await w.reader.holdings(base), base));
    });
  }

  it(`keeps its invariants on ${CASES} seeded cases from seed ${FIRST_SEED}`, () => explore(w.fuzz, fuzzCase), 600_000);

  it.each([409, 403])('an answer with status %d but no AWS error type is named as not an ECR API answer (was "failed (Unknown): UnknownError"; 403: "AWS denied ...: UnknownError", hint grant the action)', async (status) => {
    const pack = w.work.packs[0]!;
    w.fuzz.applied = [];
    w.fuzz.plan = { decide: () => ({ kind: 'status', status }) };
    const run = await runCli(['list', ...w.args('ref', w.fuzz.url), ...FLAGS], { env: w.env }).finally(() => (w.fuzz.plan = undefined));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`error: the ECR API at ${w.fuzz.url} answered ecr:\\w+ with HTTP ${status} and no AWS error type: not an ECR API answer`));
    expect(run.stderr).not.toContain('AWS denied');
    expect(run.stderr).toContain('hint: check --ecr-endpoint / AWS_ENDPOINT_URL_ECR points at the ECR API');
    expect(run.stdout).not.toContain(pack.name);
  });

  describe('what the fuzz found, one case each', () => {
    /** Push the first pack under `base`, then delete it with `mutation` on the first BatchDeleteImage answer (ECR acts before it). */
    const deleteWith = async (base: string, mutation: Mutation): Promise<DeleteCase> => {
      const pack = w.work.packs[0]!;
      const pre = await runCli(['push', pack.dir, ...w.args(base, w.standin.url)], { env: w.env });
      expect(pre.code, pre.stderr).toBe(0);
      const isDelete = (_m: string, _p: string, headers: Readonly<Record<string, unknown>>) => String(headers['x-amz-target']).endsWith('.BatchDeleteImage');
      const run = await onceOn(w.fuzz, isDelete, mutation, ['delete', `${pack.name}:${pack.version}`, '--force', ...w.args(base, w.fuzz.url)], w.env);
      expect(w.fuzz.applied).toHaveLength(1);
      const id = `${pack.name}:${pack.version}`;
      return { run, id, reference: `${w.host}/${base}/spectro-packs/archive/${id}`, held: underBase(await w.reader.holdings(base), base) };
    };

    it('a delete whose answer was lost is done when the SDK\'s retry gets ImageNotFound (was exit 1)', async () => {
      expectDeleted(await deleteWith('lost-answer', { kind: 'hang-up' }));
    });

    it('ImageNotFound to the first attempt of a delete is still "no longer there": exit 1', async () => {
      const notFound = { imageIds: [], failures: [{ failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }] };
      const failed = await deleteWith('first-404', { kind: 'body', body: Buffer.from(JSON.stringify(notFound)), label: 'ImageNotFound' });
      expectDeleteFailed(failed, `${failed.reference} is no longer there: ECR answered ImageNotFound: Requested image not found`);
    });
  });
});

describe('Palette API answers', () => {
  const KEY = `apikey-${process.pid}-fuzz-tenant`;
  const w = setup(async (stack) => {
    // The registry behind the Harbor stand-in, published to directly (token auth); its bases start with `p`.
    const { registry } = shared.harbor;
    const palette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs: { [registry.host]: { url: registry.url } }, startDelayPolls: 1, clock }));
    const fuzz = stack.add(await startAnswerFuzzer(new URL(palette.url).host));
    const { work, holdings, expected } = shared;
    return { registry, palette, fuzz, work, env: { ...shared.env, SPECTROCLOUD_APIKEY: KEY }, holdings, expected };
  });
  const registriesWithBase = (base: string) => [...w.palette.registries.values()].filter((r) => r.spec['baseContentPath'] === base);

  async function fuzzCase(seed: number): Promise<Outcome> {
    const { prng, op, pack, key, base } = drawCase(seed, ['register', 'push-sync', 'sync'] as const, 'p');
    const at = ['--registry', `${w.registry.host}/${base}`];
    const direct = { ...w.env, SPECTROCLOUD_HOST: w.palette.url };
    if (op !== 'register') {
      const pre = await runCli(['palette', 'register', ...at], { env: direct });
      if (pre.code !== 0) return { what: `seed ${seed} ${op}`, broken: [`setup register failed: ${pre.stderr}`] };
    }
    if (op === 'sync') {
      const pre = await runCli(['push', pack.dir, ...at], { env: direct });
      if (pre.code !== 0) return { what: `seed ${seed} ${op}`, broken: [`setup push failed: ${pre.stderr}`] };
    }
    const fast = ['--palette-poll-interval', '0.02', '--palette-timeout', '30'];
    const argv =
      op === 'register' ? ['palette', 'register', ...at]
      : op === 'push-sync' ? ['push', pack.dir, ...at, '--palette-sync', ...fast]
      : ['palette', 'sync', ...at, ...fast];
    const run = await fuzzedRun(w.fuzz, plan(seed, prng), () => true, argv, { ...w.env, SPECTROCLOUD_HOST: w.fuzz.url });
    return judge(w.fuzz, `seed ${seed} ${op} ${pack.name}`, run, [PASSWORD, KEY], async () => {
      const registries = registriesWithBase(base);
      if (registries.length === 0) return [`exit 0 but Palette has no registry for ${base}`];
      if (op === 'register') return [];
      const held = underBase(await w.holdings(base), base);
      if (held.get(key) !== w.expected.get(key)) return [`exit 0 but ${key} is ${held.get(key) ?? 'missing'} in the registry`];
      const indexed = registries.map((r) => r.index.get(pack.name)?.get(pack.version)?.digest);
      return indexed.includes(w.expected.get(key)) ? [] : [`exit 0 but Palette indexed ${pack.name}:${pack.version} as ${indexed.join(', ')}`];
    }, [0, 1, 3]); // 3: published, not visible in Palette
  }

  it(`keeps its invariants on ${CASES} seeded cases from seed ${FIRST_SEED}`, () => explore(w.fuzz, fuzzCase), 600_000);

  describe('what the fuzz found, one case each', () => {
    /** Register base `c-<name>` directly, then run `palette sync` of it with `mutation` on the answers `match` picks (`times` of them). */
    const syncWith = async (name: string, match: RegExp, mutation: Mutation, times = 100, extra: string[] = []) => {
      const at = ['--registry', `${w.registry.host}/p-${name}`];
      const pre = await runCli(['palette', 'register', ...at], { env: { ...w.env, SPECTROCLOUD_HOST: w.palette.url } });
      expect(pre.code, pre.stderr).toBe(0);
      let left = times;
      w.fuzz.applied = [];
      w.fuzz.plan = { decide: (method, path) => (match.test(`${method} ${path}`) && left-- > 0 ? mutation : undefined) };
      try {
        return await runCli(['palette', 'sync', ...at, '--palette-poll-interval', '0.02', ...FLAGS, ...extra], { env: { ...w.env, SPECTROCLOUD_HOST: w.fuzz.url } });
      } finally {
        w.fuzz.plan = undefined;
      }
    };
    const READ_REGISTRY = /^GET \/v1\/registries\/oci\/[0-9a-f]+\/basic$/;

    it.each([
      ['a JSON string', { kind: 'body', body: Buffer.from('"text"'), label: 'string' }, 'the body is not a JSON object'],
      ['an object without spec', { kind: 'body', body: Buffer.from('{"schemaVersion":2}'), label: 'no spec' }, 'spec is not an object'],
      ['an empty body', { kind: 'empty' }, 'the body is empty'],
    ] as const)('a registry record that is %s is named as an odd answer, not a crash or "no registry"', async (_label, mutation, detail) => {
      const run = await syncWith(`odd-${detail.length}`, READ_REGISTRY, mutation);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`error: Palette at ${w.fuzz.host} answered read registry [0-9a-f]+ with an unexpected shape: ${detail}`));
      expect(run.stderr).not.toContain('bug in packpub');
      expect(run.stderr).not.toContain('no Pack registry');
    });

    it('an answer cut short once is asked again: the sync ends with Palette holding the registry synced', async () => {
      const run = await syncWith('cut-once', READ_REGISTRY, { kind: 'truncate' }, 1);
      expect(run.code, run.stderr).toBe(0);
      expect(w.fuzz.applied).toHaveLength(1);
      expect(registriesWithBase('p-cut-once')[0]?.syncRequests.length).toBeGreaterThan(0);
    });

    it('an answer dripped a byte at a time ends within the request\'s time (here what --palette-timeout leaves: 1 s), not when the drip ends', async () => {
      w.fuzz.dripMs = 50; // a registry record of ~400 bytes would take ~20 s
      const run = await syncWith('drip', READ_REGISTRY, { kind: 'drip' }, 100, ['--palette-timeout', '1']);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`error: Palette at ${w.fuzz.host} did not answer read registry [0-9a-f]+ within 1 s \\(1 attempt\\)`));
    });

    // FLAGS give --retry-attempts 3: Palette's calls take it as registry calls do.
    it('a connection closed without an answer on every attempt is named as such, not "cannot reach Palette"', async () => {
      const run = await syncWith('hang-up', READ_REGISTRY, { kind: 'hang-up' });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`error: Palette at ${w.fuzz.host} closed the connection during read registry [0-9a-f]+ \\(3 attempts\\)`));
      expect(run.stderr).not.toContain('cannot reach');
    });

    it('an answer cut short on every attempt says so, not "cannot reach Palette"', async () => {
      const run = await syncWith('cut-always', READ_REGISTRY, { kind: 'truncate' });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`error: Palette at ${w.fuzz.host} cut its answer to read registry [0-9a-f]+ short: it did not have the length it announced \\(3 attempts\\)`));
      expect(run.stderr).not.toContain('cannot reach');
    });
  });
});
