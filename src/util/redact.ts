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
 */
const knownSecrets = new Set<string>();

/** Remember a secret so redactText() removes it; very short values are ignored (they would mangle text). */
export function registerSecret(value: string | undefined): void {
  if (value !== undefined && value.length >= 6) knownSecrets.add(value);
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
  return out;
}
