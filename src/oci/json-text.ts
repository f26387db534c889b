/*
 * What Go's encoding/json (the reader of registries, ORAS, skopeo and Palette) takes otherwise than JSON.parse, in
 * the text of a document JSON.parse took: read from the text, as JSON.parse keeps neither.
 * - A key given twice in one object: JSON.parse keeps the last value whole; Go decodes each into the same field, so
 *   an object or array given twice is merged (a descriptor's fields, a layer's annotations the second one leaves out
 *   are kept from the first).
 * - A number literal with a fraction or an exponent (`467.0`, `4.67e2`): Go refuses it for an integer field (int64
 *   `size`, int `schemaVersion`: "cannot unmarshal number 467.0 into Go struct field ... of type int64"), the whole
 *   document with it; JSON.parse reads 467.
 */

/** A place in a document: the keys and array indexes from its top. */
export type JsonPath = ReadonlyArray<string | number>;

export interface JsonTextFacts {
  /** Keys given twice in one object, each with the path of that object. */
  duplicates: Array<{ path: JsonPath; key: string }>;
  /** Number literals that are not integers as Go reads them (a fraction or an exponent), with their paths. */
  nonIntegers: Array<{ path: JsonPath; literal: string }>;
}

type Frame = { keys: Set<string>; key: string | undefined; expectKey: boolean } | { index: number };

/** The facts of `text`, a document JSON.parse took (its syntax is not checked again). */
export function jsonTextFacts(text: string): JsonTextFacts {
  const facts: JsonTextFacts = { duplicates: [], nonIntegers: [] };
  const frames: Frame[] = [];
  const path = (): Array<string | number> => frames.map((f) => ('index' in f ? f.index : (f.key ?? '')));
  // A value starts: in an array, it is the next element.
  const valueStarts = (): void => {
    const top = frames[frames.length - 1];
    if (top !== undefined && 'index' in top) top.index++;
  };
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      valueStarts();
      frames.push(c === 0x7b ? { keys: new Set(), key: undefined, expectKey: true } : { index: -1 });
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      const top = frames[frames.length - 1];
      if (top !== undefined && 'keys' in top) top.expectKey = true;
      i++;
    } else if (c === 0x3a /* : */) {
      const top = frames[frames.length - 1];
      if (top !== undefined && 'keys' in top) top.expectKey = false;
      i++;
    } else if (c === 0x22 /* " */) {
      // The closing quote: the next one not escaped (an odd run of backslashes before it escapes it).
      let end = text.indexOf('"', i + 1);
      for (;;) {
        if (end < 0) {
          end = n;
          break;
        }
        let b = end - 1;
        while (b > i && text.charCodeAt(b) === 0x5c /* \ */) b--;
        if ((end - 1 - b) % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      const top = frames[frames.length - 1];
      if (top !== undefined && 'keys' in top && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (top.keys.has(key)) facts.duplicates.push({ path: path().slice(0, -1), key });
        top.keys.add(key);
        top.key = key;
      } else valueStarts();
      i = end + 1;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      valueStarts();
      let end = i + 1;
      let integer = true;
      for (; end < n; end++) {
        const d = text.charCodeAt(end);
        if (d >= 0x30 && d <= 0x39) continue;
        if (d === 0x2e /* . */ || d === 0x65 /* e */ || d === 0x45 /* E */ || d === 0x2b /* + */ || d === 0x2d /* - */) integer = false;
        else break;
      }
      // A leading zero before more digits is no JSON: JSON.parse refused the document before.
      if (!integer) facts.nonIntegers.push({ path: path(), literal: text.slice(i, end) });
      i = end;
    } else if (c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */) {
      valueStarts();
      i += c === 0x66 ? 5 : 4;
    } else i++;
  }
  return facts;
}

/** `path` as a JSON-path-like text: `layers[0].size`. */
export function shownPath(path: JsonPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${/^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? p : JSON.stringify(p)}`)).join('');
}
