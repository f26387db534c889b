import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES } from '../../../src/cli/commands/index.js';
import { runCli } from '../../support/cli.js';

/*
 * Every long flag README.md, docs/ and examples/ name (`--something`) is one some packpub command's --help
 * lists: a flag renamed or removed in the code fails here until the pages follow; and every flag a --help
 * lists is named on some page: a flag added without a word in README.md or docs/ fails too. `--no-X` counts when `--X`
 * is listed (yargs' negation of a switch), and a prefix such as `--from-` or `--ecr-` stands for a family (`--from-*`)
 * that some listed flags open.
 * Flags of other tools the pages quote are listed below with why; the list is checked to stay short and true.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const NOT_PACKPUB: Record<string, string> = {
  '--global': 'npm install --global (README install)',
  '--branch': 'git clone --branch (README install)',
  '--silent': 'npm pack --silent (README install)',
  '--omit': 'npm ci --omit=dev (examples/ci)',
  '--allow-scripts': "npm's install-scripts setting (README install)",
  '--raw': 'skopeo inspect --raw (README)',
  '--image-tag-mutability': 'aws ecr put-image-tag-mutability (errors.md fix)',
  '--repository-name': 'aws ecr ... --repository-name (errors.md fix)',
  '--key-id': 'aws kms describe-key --key-id (errors.md fix)',
  '--profile': 'aws ... --profile (errors.md fix)',
  '--liftoff-only': "a V8 flag bin/packpub.js sets (README, the build)",
  '--interrupt-budget': "a V8 flag bin/packpub.js sets (README, the build)",
  '--semi-space-growth-factor': "a V8 flag bin/packpub.js sets (README, the build)",
  '--no-use-osr': "a V8 flag bin/packpub.js sets for validate (README, the build)",
  '--no-concurrent-recompilation': "a V8 flag bin/packpub.js sets for validate's workers (README, architecture.md)",
  '--hard-dereference': "GNU tar --hard-dereference, in chart-archive-link's fix (errors.md)",
  '--max-http-header-size': "Node's option (errors.md)",
  '--jitless': "Node's option (errors.md: packpub's HTTP client needs the WebAssembly it takes away)",
  '--password': 'a flag packpub refuses on purpose (errors.md: there is no --password flag)',
  '--skip-exisitng': 'a typo, as the example of a suggestion (errors.md)',
  '--sparse': "GNU tar --sparse, in pull's refusal of a sparse file (errors.md)",
};

const FLAG = /(?<![A-Za-z0-9-])--[a-z][a-z0-9-]*/g;

function textFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(md|json|ya?ml|sh)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

describe('the flags README.md, docs/ and examples/ name', () => {
  it("are each one some command's --help lists (or another tool's, listed here with why)", async () => {
    const listed = new Set<string>();
    for (const argv of [['--help'], ...COMMAND_MODULES.map(([name]) => [name, '--help'])]) {
      const run = await runCli(argv);
      expect(run.code, `packpub ${argv.join(' ')}`).toBe(0);
      for (const m of run.stdout.matchAll(FLAG)) listed.add(m[0]);
    }
    expect(listed.size).toBeGreaterThan(60);
    const known = (flag: string): boolean =>
      listed.has(flag) || (flag.startsWith('--no-') && listed.has(`--${flag.slice(5)}`)) || (flag.endsWith('-') && [...listed].some((f) => f.startsWith(flag)));

    const files = [join(ROOT, 'README.md'), ...textFiles('docs'), ...textFiles('examples')];
    const unknown = new Set<string>();
    const foreignSeen = new Set<string>();
    const named = new Set<string>();
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(FLAG)) {
        const flag = m[0];
        named.add(flag);
        if (known(flag)) continue;
        if (flag in NOT_PACKPUB) foreignSeen.add(flag);
        else unknown.add(`${relative(ROOT, file)}: ${flag}`);
      }
    }
    expect([...unknown].sort()).toEqual([]);
    // And the other way: every flag a --help lists is named on some page (init's and copy's per-side flags were
    // --help only until session 21), so a new flag comes with its description in README.md or docs/.
    expect([...listed].filter((flag) => !named.has(flag)).sort()).toEqual([]);
    // A flag of another tool no page quotes any more, or one packpub now has, leaves the list.
    expect(Object.keys(NOT_PACKPUB).filter((f) => !foreignSeen.has(f)).sort()).toEqual([]);
  });
});
