import { LineIndex } from './yaml-tree.js';

/*
 * `.Values` references in Go templates: Palette renders pack manifests with them, and Helm charts read
 * their values through them. Used to check a manifest's references against values.yaml, and to accept
 * keys a chart's templates read even when its values.yaml does not list a default for them.
 */

export interface ValuesReference {
  /** Key path after `.Values`, e.g. `['image', 'tag']`. */
  path: string[];
  line: number;
  column: number;
}

/**
 * `.Values.a.b` and `$.Values.a.b` inside `{{ ... }}` actions. Comment actions (`{{/* ... *\/}}`) are
 * skipped; keys with dashes need `index` in Go templates and are not field references, so they are
 * not found here.
 */
export function valuesReferences(text: string, limit = 10_000): ValuesReference[] {
  const refs: ValuesReference[] = [];
  let lines: LineIndex | undefined;
  scanReferences(text, limit, (dotted, offset) => {
    lines ??= new LineIndex(text);
    refs.push({ path: dotted.split('.'), ...lines.position(offset) });
  });
  return refs;
}

/**
 * The same references as dotted paths (`image.tag`), without positions: what a chart's templates read
 * (chart.ts), where no position is ever shown. Cheaper: no line index, no path arrays.
 */
export function valuesReferencePaths(text: string, limit = 10_000): string[] {
  const paths: string[] = [];
  scanReferences(text, limit, (dotted) => paths.push(dotted));
  return paths;
}

/** Calls `found` with each reference's dotted path and the offset of its `.Values` / `$.Values`, at most `limit` times. */
function scanReferences(text: string, limit: number, found: (dotted: string, offset: number) => void): void {
  let count = 0;
  // After a keyword Go's lexer needs no space (`{{if.Values.x}}` is `if .Values.x`); after any other
  // word (`$root.Values`, a function: `not.Values` chains on its result) it is not a root reference.
  const field = /(^|[^\w$.)\]]|\b(?:if|with|range|else))\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g;
  // Actions are `{{` up to the first `}}` after it, scanned from the start; only those holding `.Values`
  // are looked at (issue 16: templates hold thousands of actions, few read values). No action holds a
  // `}}`, so the scan can start again right after any `}}` before a `.Values` and find the same actions.
  // Everything before `from` is done.
  let from = 0;
  while (count < limit) {
    const at = text.indexOf('.Values', from);
    if (at === -1) return;
    const lastClose = text.lastIndexOf('}}', at - 2);
    const start = lastClose !== -1 && lastClose + 2 > from ? lastClose + 2 : from;
    const open = text.indexOf('{{', start);
    if (open === -1 || open + 2 > at) {
      from = at + 7; // outside every action
      continue;
    }
    // Found with indexOf, not one regex over the file: an unclosed `{{` must not make it quadratic.
    const close = text.indexOf('}}', open + 2);
    if (close === -1) return;
    const body = text.slice(open + 2, close);
    if (!/^-?\s*\/\*/.test(body)) {
      field.lastIndex = 0;
      for (let f = field.exec(body); f !== null && count < limit; f = field.exec(body)) {
        count++;
        found((f[2] ?? '').slice(1), open + 2 + f.index + (f[1] ?? '').length);
      }
    }
    from = close + 2;
  }
}
