/*
 * Secrets never leave (STYLE.md #5): every URL that reaches a message, a debug line or an error goes
 * through redactUrl(), and free text from elsewhere (a cause message) through redactText().
 */

const REDACTED = '***';

/**
 * Query parameters that carry credentials or signatures: S3/ECR presigned URLs (X-Amz-Signature,
 * X-Amz-Credential, X-Amz-Security-Token), GCS (X-Goog-Signature/-Credential), Azure SAS (sig),
 * OAuth (access_token, refresh_token, client_secret), distribution's HMAC-signed upload `_state`.
 */
const SECRET_PARAM_RE = /(token|sig|signature|credential|credentials|secret|password|passwd|pwd|auth|authorization|key|code|_state)$/i;

function redactQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // keep the raw name: a malformed escape is not a reason to print the value
      }
      return SECRET_PARAM_RE.test(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join('&');
}

/** A URL fit for printing: no userinfo, signed/secret query values replaced by `***`, no fragment. */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    // Not absolute (a relative Location): redact what we can see.
    const text = String(url);
    const q = text.indexOf('?');
    const path = (q === -1 ? text : text.slice(0, q)).replace(/\/\/[^/@]*@/, '//');
    return q === -1 ? path : `${path}?${redactQuery(text.slice(q + 1).split('#')[0] ?? '')}`;
  }
  const userinfo = parsed.username !== '' || parsed.password !== '' ? `${REDACTED}@` : '';
  const query = redactQuery(parsed.search.replace(/^\?/, ''));
  return `${parsed.protocol}//${userinfo}${parsed.host}${parsed.pathname}${query === '' ? '' : `?${query}`}`;
}

/*
 * Process-wide set of secret values seen at run time (passwords, tokens, Basic header values), so text we
 * did not write ourselves (a registry's error message, an undici cause) is scrubbed before it is shown.
 * Defence in depth: the primary rule is still to never put a secret into a message.
 *
 * Every secret is scrubbed whatever its length (issue 13 item 16). The rule by length:
 * - LONG_SECRET characters or more: every occurrence, even inside a longer word (a token glued to text).
 * - shorter: only where it stands as a whole token, i.e. not touching a letter or digit on either side.
 *   A password "abc" echoed as "password abc" or '"abc"' is scrubbed, while "abcdef" or "cabc" is left
 *   alone, so a short secret does not mangle every word that happens to contain it. A 1-2 character
 *   password is still scrubbed wherever it stands alone (the word "a" too): its owner's output may read
 *   oddly, but it never shows the secret.
 */
const LONG_SECRET = 6;
const knownSecrets = new Set<string>();
const shortSecrets = new Map<string, RegExp>();

/** Remember a secret so redactText() removes it (short ones as whole tokens only, see above). */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value === '') return;
  if (value.length >= LONG_SECRET) {
    knownSecrets.add(value);
  } else if (!shortSecrets.has(value)) {
    const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    shortSecrets.set(value, new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, 'g'));
  }
}

/**
 * Forget every registered secret. One CLI process is one run, so the CLI never calls this; it is for a
 * process that runs several independent runs one after another (the test suite runs many test files in one
 * process), so that secrets of one run do not mask words in the next run's output.
 */
export function forgetSecrets(): void {
  knownSecrets.clear();
  shortSecrets.clear();
}

/** Remove URLs' secrets, Authorization values and every registered secret from free text. */
export function redactText(text: string): string {
  let out = text.replace(/\bhttps?:\/\/[^\s"'<>]+/gi, (u) => {
    // punctuation ending a sentence is not part of the URL
    const trail = /[.,;:)\]]+$/.exec(u)?.[0] ?? '';
    return redactUrl(u.slice(0, u.length - trail.length)) + trail;
  });
  // credentials are long; a shorter word after "Basic"/"Bearer" is prose ("Basic authentication")
  out = out.replace(/\b(Basic|Bearer)\s+[A-Za-z0-9\-._~+/]{16,}=*/g, `$1 ${REDACTED}`);
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [secret, re] of shortSecrets) {
    if (out.includes(secret)) out = out.replace(re, REDACTED);
  }
  return out;
}
