import { parseArgs } from 'node:util';

/** Command-line options of `npm run bench -- [options]`. */

export const SCENARIOS = ['baseline', 'bound', 'empty', 'unchanged', 'validate', 'first-output', 'layout', 'large', 'startup', 'new-version', 'scaling'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  runs: number;
  startupRuns: number;
  quick: boolean;
  skipLarge: boolean;
  scenarios: Set<ScenarioName>;
  seed: number;
  /** Profile scenarios that miss their target (default), every packpub scenario, or none. */
  profile: 'misses' | 'all' | 'none';
  /** Where RESULTS.md goes; default bench/RESULTS.md (quick runs: bench/work/RESULTS-quick.md). */
  output: string | undefined;
  /** Write RESULTS.md again from bench/work/last-run.json and the profiles on disk, measuring nothing. */
  reportOnly: boolean;
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

  --runs N           runs per scenario, the median is reported (default 3)
  --startup-runs N   runs of each start-up command (default 10)
  --quick            a small corpus (28 packs) and 1 run, for developing the bench
  --scenario NAME    run only this scenario (repeatable): ${SCENARIOS.join(', ')}
  --skip-large       leave out the 1 GiB pack scenario
  --seed N           corpus seed (default 7); a different seed regenerates the corpus
  --profile WHEN     misses (default): CPU-profile scenarios that miss their target; all; none
  --output FILE      where to write the results (default bench/RESULTS.md; --quick: bench/work/RESULTS-quick.md)
  --report-only      rewrite the results from the last run's raw numbers (bench/work/last-run.json) and profiles
  --help             this text`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1, got "${raw}"`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      'startup-runs': { type: 'string' },
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      'skip-large': { type: 'boolean', default: false },
      seed: { type: 'string' },
      profile: { type: 'string' },
      output: { type: 'string' },
      'report-only': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick === true;
  const chosen = values.scenario ?? [];
  for (const s of chosen) {
    if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown --scenario "${s}"; choose from ${SCENARIOS.join(', ')}`);
  }
  const scenarios = new Set<ScenarioName>(chosen.length === 0 ? SCENARIOS : (chosen as ScenarioName[]));
  if (values['skip-large'] === true) scenarios.delete('large');
  const profile = values.profile ?? 'misses';
  if (profile !== 'misses' && profile !== 'all' && profile !== 'none') throw new Error(`--profile must be misses, all or none, got "${profile}"`);
  const seed = values.seed === undefined ? 7 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a whole number, got "${values.seed ?? ''}"`);
  return {
    runs: positiveInt('runs', values.runs, quick ? 1 : 3),
    startupRuns: positiveInt('startup-runs', values['startup-runs'], 10),
    quick,
    skipLarge: values['skip-large'] === true,
    scenarios,
    seed,
    profile,
    output: values.output,
    reportOnly: values['report-only'] === true,
    help: values.help === true,
  };
}
