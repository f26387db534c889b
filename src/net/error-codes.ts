/*
 * Node and undici error codes read where any layer meets a connection's failure (the registry stack, the AWS SDK's
 * calls, Palette's client): the code through AggregateError and `cause`, and whether it is a certificate refused.
 */

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** True for a Node/undici code saying the server's certificate could not be verified (private CA, expired, wrong name). */
export function isCertificateVerifyError(code: string | undefined): boolean {
  return code !== undefined && TLS_CODES.has(code);
}

/** The error code of a Node/undici error, looking through AggregateError and `cause`. */
export function systemErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const rec = e as { code?: unknown; errors?: unknown; cause?: unknown };
    if (typeof rec.code === 'string') return rec.code;
    if (Array.isArray(rec.errors) && rec.errors.length > 0) {
      const inner = systemErrorCode(rec.errors[0]);
      if (inner !== undefined) return inner;
    }
    e = rec.cause;
  }
  return undefined;
}
