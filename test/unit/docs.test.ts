import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_NOT_VISIBLE, EXIT_OK, EXIT_USAGE } from '../../src/cli/io.js';

/*
 * docs/errors.md against the code: every error code of src/errors.ts has a row in its "Error codes"
 * table (and the table names no code that is gone), every validation rule id the pack checks can report is
 * named in the document (a `prefix-*` row covers a family) and the rule table names none that is gone, and
 * the exit-code table lists the CLI's codes.
 * docs/architecture.md names only files that exist.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ERRORS_MD = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');

function section(md: string, heading: string): string {
  const start = md.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/errors.md has no "## ${heading}" section`);
  const end = md.indexOf('\n## ', start + 1);
  return md.slice(start, end < 0 ? undefined : end);
}

/** First-column values of a Markdown table's rows: `| \`X\` | ...`. */
function firstColumnCodes(text: string): string[] {
  return [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('docs/errors.md', () => {
  it('has one row per error code of src/errors.ts, and none for a code that no longer exists', () => {
    const errorsTs = readFileSync(join(ROOT, 'src/errors.ts'), 'utf8');
    const union = /export type ErrorCode =([\s\S]*?);\n/.exec(errorsTs)?.[1];
    expect(union, 'ErrorCode union in src/errors.ts').toBeDefined();
    const codes = [...union!.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!).sort();
    expect(codes.length).toBeGreaterThan(10);
    expect(firstColumnCodes(section(ERRORS_MD, 'Error codes')).sort()).toEqual(codes);
  });

  // Rule ids are kebab-case string literals with these prefixes in the pack checks (src/pack/) and the
  // image checks; anything else spelled so there is a rule too (a new prefix needs adding here).
  const prefixes = ['pack-json', 'file', 'yaml', 'values', 'chart', 'manifest', 'image', 'logo', 'readme', 'deep', 'version', 'name', 'addon-type', 'cloud-type', 'dependency-type', 'schedule-type', 'path-outside', 'not-a-file'];
  const isRuleLike = (id: string): boolean => id === 'internal' || (id.includes('-') && prefixes.some((p) => id === p || id.startsWith(`${p}-`)));
  const sourceRules = (): Set<string> => {
    const files = [...sourceFiles(join(ROOT, 'src/pack')), join(ROOT, 'src/operations/check-images.ts')];
    const rules = new Set<string>();
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(/'([a-z0-9]+(?:-[a-z0-9]+)*)'/g)) if (isRuleLike(m[1]!)) rules.add(m[1]!);
    }
    return rules;
  };

  it('names every validation rule the pack checks can report', () => {
    const rules = sourceRules();
    expect(rules.size).toBeGreaterThan(40);
    const named = (id: string): boolean => ERRORS_MD.includes(`\`${id}\``) || [...ERRORS_MD.matchAll(/`([a-z]+)-\*`/g)].some((m) => id.startsWith(`${m[1]}-`));
    expect([...rules].filter((id) => !named(id)).sort()).toEqual([]);
  });

  it('names no validation rule the checks no longer report (first column of the rule table)', () => {
    const rules = sourceRules();
    const table = section(ERRORS_MD, 'Pack validation (`PACK_INVALID`)');
    const listed = [...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((row) => [...row[1]!.matchAll(/`([a-z0-9]+(?:-[a-z0-9]+)*)`/g)].map((m) => m[1]!)).filter(isRuleLike);
    expect(listed.length).toBeGreaterThan(40);
    expect(listed.filter((id) => !rules.has(id)).sort()).toEqual([]);
  });

  it('lists the exit codes the CLI uses', () => {
    const listed = firstColumnCodes(section(ERRORS_MD, 'Exit codes')).map(Number).sort((a, b) => a - b);
    expect(listed).toEqual([EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_NOT_VISIBLE, EXIT_INTERRUPTED]);
  });
});

describe('docs/architecture.md', () => {
  it('names only files and folders that exist (paths relative to src/, or to the repository)', () => {
    const md = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const named = new Set([...md.matchAll(/`([A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*(?:\.(?:ts|mjs|sh|json|md|js)|\/))`/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(30);
    // A bare file name (`harbor.ts`) stands beside the folder named before it in the same row: targets/.
    const exists = (p: string): boolean => [join(ROOT, 'src', p), join(ROOT, p), join(ROOT, 'src/targets', p)].some((f) => existsSync(f));
    expect([...named].filter((p) => !exists(p)).sort()).toEqual([]);
  });
});
