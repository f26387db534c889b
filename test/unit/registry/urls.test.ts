import { describe, expect, it } from 'vitest';
import { parseNextLink, resolveLocation, withDigestParam } from '../../../src/registry/urls.js';

const post = new URL('https://registry.example.com:8443/v2/p/r/blobs/uploads/');
const digest = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' as const;

describe('upload Location resolution', () => {
  // Where the PUT goes for each form of Location (the upload URL answered to the POST above).
  it.each([
    { form: 'absolute', location: 'https://registry.example.com:8443/v2/p/r/blobs/uploads/u1?_state=s', put: 'https://registry.example.com:8443/v2/p/r/blobs/uploads/u1?_state=s' },
    { form: 'path-absolute (Harbor)', location: '/v2/p/r/blobs/uploads/u2?_state=s', put: 'https://registry.example.com:8443/v2/p/r/blobs/uploads/u2?_state=s' },
    { form: 'path-relative', location: 'u3', put: 'https://registry.example.com:8443/v2/p/r/blobs/uploads/u3' },
    { form: 'another host (storage backend)', location: 'https://uploads.example.net/session/9', put: 'https://uploads.example.net/session/9' },
  ])('$form', ({ location, put }) => {
    expect(resolveLocation(location, post).href).toBe(put);
  });

  it('adds digest= and keeps the Location’s own query', () => {
    const put = withDigestParam(resolveLocation('/v2/p/r/blobs/uploads/u?_state=abc%3D&x=1', post), digest);
    expect(put.searchParams.get('_state')).toBe('abc=');
    expect(put.searchParams.get('x')).toBe('1');
    expect(put.searchParams.get('digest')).toBe(digest);
    expect(withDigestParam(resolveLocation('u', post), digest).search).toBe('?digest=sha256%3A44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('fails clearly without a Location or with a strange one', () => {
    expect(() => resolveLocation(undefined, post)).toThrow(/sent no Location header/);
    expect(() => resolveLocation('  ', post)).toThrow(/sent no Location header/);
    expect(() => resolveLocation('ftp://x/y', post)).toThrow(/scheme ftp:/);
  });
});

describe('Link rel="next"', () => {
  const req = new URL('https://r.example/v2/a/tags/list?n=2');
  it.each([
    ['relative, quoted rel', '</v2/a/tags/list?n=2&last=b>; rel="next"', 'https://r.example/v2/a/tags/list?n=2&last=b'],
    ['unquoted rel', '</v2/_catalog?last=x&n=2>; rel=next', 'https://r.example/v2/_catalog?last=x&n=2'],
    ['absolute', '<https://r.example/v2/a/tags/list?last=c>; rel="next"', 'https://r.example/v2/a/tags/list?last=c'],
    ['among other links', '</first>; rel="first", </next-page>; rel="prev next"', 'https://r.example/next-page'],
  ])('%s', (_name, header, expected) => {
    expect(parseNextLink(header, req)?.href).toBe(expected);
  });

  it.each([[undefined], [''], ['</prev>; rel="prev"'], ['garbage']])('%j has no next', (header) => {
    expect(parseNextLink(header, req)).toBeUndefined();
  });
});
