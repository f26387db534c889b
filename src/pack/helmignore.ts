/*
 * A chart directory's .helmignore as Helm's directory loader applies it (helm pkg/ignore, "LoadDir"): what
 * it lists is never loaded, by `helm install ./dir`, `helm lint` or `helm package` alike, so packpub neither
 * reads nor checks it. Facts carried over from Helm (not gitignore, whose rules differ):
 * - one rule a line (BOM skipped on the first), blanks trimmed, `#` starts a comment line;
 * - `**` anywhere, or a rule Go's filepath.Match calls malformed, makes Helm refuse the whole chart;
 * - `!rule`: every path the rule does NOT match is ignored (not a re-inclusion, as in gitignore), and with
 *   a trailing `/` every file is;
 * - a trailing `/` limits the rule to directories; a leading `/` anchors it to the chart root; a rule with
 *   a `/` inside is matched against the whole path, one without against the last path element;
 * - matching is Go's filepath.Match: `*` and `?` never match `/`, classes `[a-z]`, `[^...]`, `\` escapes;
 * - Helm adds `templates/.?*` after the file's rules; an ignored directory is skipped with all it holds;
 * - only the top chart's .helmignore counts: paths are relative to it, subchart folders included (a
 *   subchart folder's own .helmignore is an ordinary file). Chart archives are never filtered.
 */

export class HelmIgnoreError extends Error {}

interface Rule {
  negate: boolean;
  mustDir: boolean;
  /** Whole path (anchored or holding a `/`), or the last element only. */
  whole: boolean;
  pattern: string[];
}

export interface HelmIgnore {
  /** True when Helm's loader skips this path (relative to the top chart, `/`-separated). */
  ignores(path: string, isDir: boolean): boolean;
}

/** The rules of a .helmignore text (undefined: none), Helm's default rule added. Throws HelmIgnoreError where Helm refuses the file. */
export function parseHelmIgnore(text: string | undefined): HelmIgnore {
  const rules: Rule[] = [];
  const lines = text === undefined ? [] : text.replace(/^\uFEFF/, '').split('\n');
  for (const raw of [...lines, 'templates/.?*']) {
    const rule = goTrimSpace(raw);
    if (rule === '' || rule.startsWith('#')) continue;
    if (rule.includes('**')) throw new HelmIgnoreError(`rule "${rule}": double-star (**) syntax is not supported`);
    if (goMatch([...rule], [...'abc']) === 'bad') throw new HelmIgnoreError(`rule "${rule}": syntax error in pattern`);
    let body = rule;
    const negate = body.startsWith('!');
    if (negate) body = body.slice(1);
    const mustDir = body.endsWith('/');
    if (mustDir) body = body.slice(0, -1);
    const anchored = body.startsWith('/');
    if (anchored) body = body.slice(1);
    rules.push({ negate, mustDir, whole: anchored || body.includes('/'), pattern: [...body] });
  }
  return {
    ignores(path, isDir) {
      if (path === '' || path === '.' || path === './') return false;
      const whole = [...path];
      const slash = path.lastIndexOf('/');
      const base = slash < 0 ? whole : [...path.slice(slash + 1)];
      for (const r of rules) {
        const hit = goMatch(r.pattern, r.whole ? whole : base) === true;
        if (r.negate) {
          if ((r.mustDir && !isDir) || !hit) return true;
          continue;
        }
        if (r.mustDir && !isDir) continue;
        if (hit) return true;
      }
      return false;
    },
  };
}

/** Go's strings.TrimSpace: Unicode white space at both ends. */
function goTrimSpace(s: string): string {
  return s.replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/gu, '');
}

/** One class item's character (`\` escapes), or 'bad'. */
function classChar(p: string[], i: number): { c: string; next: number } | 'bad' {
  let c = p[i];
  if (c === undefined || c === '-' || c === ']') return 'bad';
  if (c === '\\') {
    c = p[i + 1];
    if (c === undefined) return 'bad';
    return { c, next: i + 2 };
  }
  return { c, next: i + 1 };
}

/** A `[...]` class starting at p[i] (after `[`): whether `ch` is in it, and where the pattern goes on; 'bad' when malformed. */
function matchClass(p: string[], i: number, ch: string | undefined): { hit: boolean; next: number } | 'bad' {
  let j = i;
  const negated = p[j] === '^';
  if (negated) j++;
  let hit = false;
  let ranges = 0;
  for (;;) {
    if (p[j] === ']' && ranges > 0) {
      j++;
      break;
    }
    const lo = classChar(p, j);
    if (lo === 'bad') return 'bad';
    j = lo.next;
    let hi = lo.c;
    if (p[j] === '-') {
      const h = classChar(p, j + 1);
      if (h === 'bad') return 'bad';
      hi = h.c;
      j = h.next;
    }
    if (ch !== undefined && (lo.c.codePointAt(0) ?? 0) <= (ch.codePointAt(0) ?? 0) && (ch.codePointAt(0) ?? 0) <= (hi.codePointAt(0) ?? 0)) hit = true;
    ranges++;
  }
  return { hit: hit !== negated, next: j };
}

/** The rest of a pattern is well formed (Go checks it even once the match has failed). */
function wellFormed(p: string[], from: number): boolean {
  for (let i = from; i < p.length; ) {
    const c = p[i];
    if (c === '\\') {
      if (i + 1 >= p.length) return false;
      i += 2;
    } else if (c === '[') {
      const cls = matchClass(p, i + 1, undefined);
      if (cls === 'bad') return false;
      i = cls.next;
    } else i++;
  }
  return true;
}

/**
 * Go's path/filepath.Match on a `/`-separated system, by code points: true, false, or 'bad' (ErrBadPattern)
 * when the pattern is malformed anywhere.
 */
export function goMatch(p: string[], s: string[]): boolean | 'bad' {
  const at = (i: number, j: number): boolean | 'bad' => {
    while (i < p.length) {
      const c = p[i] as string;
      if (c === '*') {
        while (p[i] === '*') i++;
        if (i === p.length) return s.slice(j).includes('/') ? (wellFormed(p, i) ? false : 'bad') : true;
        for (let k = j; k <= s.length; k++) {
          const r = at(i, k);
          if (r !== false) return r;
          if (s[k] === '/' || k === s.length) break;
        }
        return wellFormed(p, i) ? false : 'bad';
      }
      const ch = s[j];
      if (c === '[') {
        const cls = matchClass(p, i + 1, ch);
        if (cls === 'bad') return 'bad';
        if (ch === undefined || !cls.hit) return wellFormed(p, cls.next) ? false : 'bad';
        i = cls.next;
        j++;
        continue;
      }
      let lit = c;
      let next = i + 1;
      if (c === '\\') {
        if (i + 1 >= p.length) return 'bad';
        lit = p[i + 1] as string;
        next = i + 2;
      }
      const ok = c === '?' ? ch !== undefined && ch !== '/' : ch === lit;
      if (!ok) return wellFormed(p, next) ? false : 'bad';
      i = next;
      j++;
    }
    return j === s.length;
  };
  return at(0, 0);
}
