/*
 * `WWW-Authenticate` parsing, RFC 7235 section 4.1 / 2.1:
 *   challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param  = token BWS "=" BWS ( token / quoted-string )
 * A header may hold several challenges separated by commas, and several headers may be joined.
 */

export interface Challenge {
  /** Lowercased scheme: `basic`, `bearer`, ... */
  scheme: string;
  /** Parameters with lowercased names; values unquoted. */
  params: Record<string, string>;
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_RE = /^[A-Za-z0-9\-._~+/]+=*/;

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  skipSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  skipSpaceAndCommas(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }

  token(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  quoted(): string {
    // caller saw the opening quote
    this.pos++;
    let out = '';
    while (!this.done) {
      const ch = this.peek();
      this.pos++;
      if (ch === '"') return out;
      if (ch === '\\' && !this.done) {
        out += this.peek();
        this.pos++;
      } else out += ch;
    }
    return out; // unterminated: take what there is
  }
}

/** True when the cursor is at `token BWS "="` (an auth-param), without moving it. */
function atParam(c: Cursor): boolean {
  const save = c.pos;
  const name = c.token();
  c.skipSpace();
  const isParam = name !== '' && c.peek() === '=';
  c.pos = save;
  return isParam;
}

/** Parse one or more `WWW-Authenticate` values into challenges, in order. Garbage is skipped, never thrown. */
export function parseWwwAuthenticate(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join(', ');
  const c = new Cursor(text);
  const challenges: Challenge[] = [];
  while (true) {
    c.skipSpaceAndCommas();
    if (c.done) break;
    const scheme = c.token();
    if (scheme === '') {
      c.pos++; // not a token character: skip it
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    c.skipSpace();
    // token68 (e.g. `Negotiate abc==`): the whole value up to a comma or the end
    const rest = c.text.slice(c.pos);
    const t68 = TOKEN68_RE.exec(rest);
    if (t68 !== null) {
      const after = rest.slice(t68[0].length).trimStart();
      if (after === '' || after.startsWith(',')) {
        challenge.token68 = t68[0];
        c.pos += t68[0].length;
        continue;
      }
    }
    // auth-params until something that is not `name=`
    while (true) {
      c.skipSpace();
      if (!atParam(c)) break;
      const name = c.token().toLowerCase();
      c.skipSpace();
      c.pos++; // '='
      c.skipSpace();
      const value = c.peek() === '"' ? c.quoted() : c.token();
      challenge.params[name] = value;
      c.skipSpace();
      if (c.peek() !== ',') break;
      // after a comma: another param of this challenge, or the next challenge's scheme
      const save = c.pos;
      c.skipSpaceAndCommas();
      if (!atParam(c)) {
        c.pos = save;
        break;
      }
    }
  }
  return challenges;
}

export interface BearerChallenge {
  realm: string;
  service?: string;
  /** Space-separated scopes split into a list (distribution token spec). */
  scopes: string[];
  /** e.g. `insufficient_scope`, `invalid_token` (RFC 6750 3.1). */
  error?: string;
}

/** The first Bearer challenge with a realm, if any. */
export function findBearer(challenges: readonly Challenge[]): BearerChallenge | undefined {
  const c = challenges.find((ch) => ch.scheme === 'bearer' && (ch.params['realm'] ?? '') !== '');
  if (c === undefined) return undefined;
  const scope = c.params['scope'];
  return {
    realm: c.params['realm'] ?? '',
    ...(c.params['service'] === undefined ? {} : { service: c.params['service'] }),
    scopes: scope === undefined ? [] : scope.split(' ').filter((s) => s !== ''),
    ...(c.params['error'] === undefined ? {} : { error: c.params['error'] }),
  };
}

export function hasBasic(challenges: readonly Challenge[]): boolean {
  return challenges.some((ch) => ch.scheme === 'basic');
}

/**
 * Merge scopes so the same resource appears once with the union of its actions, sorted, as oras-go's
 * auth.CleanScopes does: `repository:a:pull` + `repository:a:push` -> `repository:a:pull,push`; `*` wins.
 */
export function mergeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  const opaque = new Set<string>();
  for (const scope of scopes) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first === -1 || last === first) {
      if (scope !== '') opaque.add(scope);
      continue;
    }
    const resource = scope.slice(0, last);
    const actions = byResource.get(resource) ?? new Set<string>();
    for (const a of scope.slice(last + 1).split(',')) if (a !== '') actions.add(a);
    byResource.set(resource, actions);
  }
  const out = [...opaque];
  for (const [resource, actions] of byResource) {
    if (actions.size === 0) continue;
    const list = actions.has('*') ? ['*'] : [...actions].sort();
    out.push(`${resource}:${list.join(',')}`);
  }
  return out.sort();
}

/** `repository:<repo>:<actions>` */
export function repositoryScope(repository: string, actions: readonly string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

/** The scope `GET /v2/_catalog` needs (distribution token spec). */
export const CATALOG_SCOPE = 'registry:catalog:*';
