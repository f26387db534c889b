import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ON_THIS_THREAD_BYTES } from '../../src/archive/build.js';
import { SIGNAL_ECHO_MS } from '../../src/cli/signals.js';
import { MAX_DETAILS, MAX_DETAILS_PER_RUN, MAX_PACKS, MAX_REREADS, MAX_VERSIONS } from '../../src/operations/list.js';
import { LOOKUP_SLOW_MS, LOOKUPS_AT_FIRST, LOOKUPS_AT_MOST } from '../../src/operations/lookup-pace.js';
import { MIN_WORK_FOR_WORKERS } from '../../src/operations/validate-work.js';
import { DEFAULT_PALETTE_POLL_MS, DEFAULT_PALETTE_TIMEOUT_MS } from '../../src/palette/endpoint.js';
import { PALETTE_CLIENT_RATE } from '../../src/palette/rate-limit.js';
import { RETRY_DEFAULTS } from '../../src/registry/retry.js';

/*
 * Numbers README.md and docs/ state, against the constants that make them true: a bound or default changed in
 * the code fails here until the pages follow. Each check names the phrase the page says, built from the
 * constant (the pages spell numbers as a reader reads them: `8 MiB`, `5000`, `four`).
 */

const read = (path: string): string => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');
const README = read('README.md');
const ARCHITECTURE = read('docs/architecture.md');
const ERRORS = read('docs/errors.md');
const REPORT = read('docs/report.md');
const MiB = 1024 * 1024;
/** Whether `page` (named `name`) holds `phrase`; a failure names the phrase, not the whole page. */
function says(page: string, name: string, phrase: string): void {
  expect(page.includes(phrase), `${name} says: ${phrase}`).toBe(true);
}
const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'];

describe('numbers the pages state', () => {
  it("the list bounds (README's list row, architecture.md, report.md's detailsOmitted)", () => {
    says(README, 'README.md', `read for the newest ${MAX_DETAILS} versions of a pack, and ${MAX_DETAILS_PER_RUN} in all`);
    says(README, 'README.md', `refuses more than ${MAX_PACKS} pack repositories or ${MAX_VERSIONS} versions`);
    says(ARCHITECTURE, 'docs/architecture.md', `(${MAX_PACKS} pack repositories, ${MAX_VERSIONS} versions; ${MAX_DETAILS_PER_RUN} manifest reads, the newest versions first, cosign's tags last; ${MAX_REREADS} reads again`);
    says(REPORT, 'docs/report.md', `more than ${MAX_DETAILS} versions, or more than ${MAX_DETAILS_PER_RUN} under the base path`);
    says(ERRORS, 'docs/errors.md', `the first ${MAX_REREADS} such tags of a run`);
  });

  it('the validation workers threshold and the on-thread archive size', () => {
    expect(MIN_WORK_FOR_WORKERS % MiB).toBe(0);
    says(README, 'README.md', `about ${MIN_WORK_FOR_WORKERS / MiB} MiB of files or more`);
    says(ARCHITECTURE, 'docs/architecture.md', `(\`MIN_WORK_FOR_WORKERS\`, ${MIN_WORK_FOR_WORKERS / MiB} MiB of files`);
    says(ARCHITECTURE, 'docs/architecture.md', `a pack of up to ${ON_THIS_THREAD_BYTES / MiB} MiB (\`ON_THIS_THREAD_BYTES\`)`);
  });

  it('the retry and Palette defaults', () => {
    says(README, 'README.md', `\`--retry-attempts N\` (default ${RETRY_DEFAULTS.attempts}), \`--request-timeout S\` (default ${RETRY_DEFAULTS.requestTimeoutMs / 1000})`);
    says(README, 'README.md', `(default ${RETRY_DEFAULTS.deadlineMs / 1000}) bound retries`);
    says(README, 'README.md', `starting at \`--retry-delay S\` (default ${RETRY_DEFAULTS.initialDelayMs / 1000},`);
    says(README, 'README.md', `It polls every ${DEFAULT_PALETTE_POLL_MS / 1000} s (\`--palette-poll-interval\`) for up to ${DEFAULT_PALETTE_TIMEOUT_MS / 60_000} minutes`);
    says(README, 'README.md', `packpub sends ${PALETTE_CLIENT_RATE.perSecond} a second, in bursts of up to ${PALETTE_CLIENT_RATE.burst}`);
  });

  it("the pace of push's early look-ups and the window of a signal delivered twice", () => {
    says(README, 'README.md', `(${LOOKUPS_AT_FIRST} look-ups at a time, ${LOOKUPS_AT_MOST} once the answers show a far registry`);
    says(ARCHITECTURE, 'docs/architecture.md', `${LOOKUPS_AT_FIRST} in flight at once, ${LOOKUPS_AT_MOST} (the transport's connections to one registry)`);
    says(ARCHITECTURE, 'docs/architecture.md', `longer than ${LOOKUP_SLOW_MS} ms per look-up in flight`);
    says(ARCHITECTURE, 'docs/architecture.md', `a signal within ${SIGNAL_ECHO_MS / 1000} s of the one heeded`);
    says(ERRORS, 'docs/errors.md', `a signal within ${SIGNAL_ECHO_MS / 1000} s of the one heeded`);
  });

  it("the test workers (README's Testing section, vitest.config.ts maxWorkers)", () => {
    const workers = Number(/\bmaxWorkers: (\d+)/.exec(read('vitest.config.ts'))?.[1]);
    expect(WORDS[workers], 'maxWorkers in vitest.config.ts').toBeDefined();
    says(README, 'README.md', `Test files share ${WORDS[workers]} worker processes (\`maxWorkers\``);
  });
});
