import { PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { redactUrl } from '../util/redact.js';

/**
 * Resolve an upload `Location` against the URL of the request that returned it. distribution-spec
 * "Pushing blobs": the Location may be relative (Harbor, distribution with relativeurls) and may carry its
 * own query (distribution's `_state`), which must be kept.
 */
export function resolveLocation(location: string | undefined, requestUrl: URL): URL {
  if (location === undefined || location.trim() === '') {
    throw new PackpubError('REGISTRY', `${requestUrl.host} started an upload but sent no Location header (${redactUrl(requestUrl)})`);
  }
  let url: URL;
  try {
    url = new URL(location.trim(), requestUrl);
  } catch (err) {
    throw new PackpubError('REGISTRY', `${requestUrl.host} sent an invalid upload Location "${redactUrl(location)}"`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PackpubError('REGISTRY', `${requestUrl.host} sent an upload Location with scheme ${url.protocol}`);
  }
  return url;
}

/** The Location with `digest=<digest>` added to whatever query it already has (monolithic PUT). */
export function withDigestParam(location: URL, digest: Digest): URL {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url;
}

/**
 * The `rel="next"` target of a `Link` header (RFC 8288), resolved against the request URL; undefined when
 * there is none. distribution-spec "Listing Tags": `Link: </v2/<name>/tags/list?n=2&last=b>; rel="next"`.
 * A next page that is no URL is an error naming `what` is paged: taking it for the end listed part of the
 * list as all of it (exit 0).
 */
export function parseNextLink(header: string | undefined, requestUrl: URL, what = requestUrl.pathname): URL | undefined {
  if (header === undefined) return undefined;
  const re = /<([^>]*)>\s*((?:;\s*[^;,]+)*)/g;
  for (let m = re.exec(header); m !== null; m = re.exec(header)) {
    const params = m[2] ?? '';
    if (/;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(params)) {
      try {
        return new URL(m[1] ?? '', requestUrl);
      } catch (err) {
        throw new PackpubError('REGISTRY', `${requestUrl.host} links the next page of ${what} to something that is not a URL`, {
          cause: err,
          hint: 'the registry (or something in front of it) says more pages follow but not where; report it to the registry owner',
        });
      }
    }
  }
  return undefined;
}
