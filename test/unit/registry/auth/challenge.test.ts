import { describe, expect, it } from 'vitest';
import { findBearer, hasBasic, mergeScopes, parseWwwAuthenticate, repositoryScope } from '../../../../src/registry/auth/challenge.js';

describe('parseWwwAuthenticate', () => {
  it.each([
    [
      'Harbor Bearer challenge',
      'Bearer realm="https://harbor.example.com/service/token",service="harbor-registry",scope="repository:p/r:pull,push"',
      [{ scheme: 'bearer', params: { realm: 'https://harbor.example.com/service/token', service: 'harbor-registry', scope: 'repository:p/r:pull,push' } }],
    ],
    [
      'ECR Basic challenge',
      'Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
      [{ scheme: 'basic', params: { realm: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/', service: 'ecr.amazonaws.com' } }],
    ],
    [
      'unquoted values, odd spacing and case',
      'BASIC   Realm = registry ,  Charset="UTF-8"',
      [{ scheme: 'basic', params: { realm: 'registry', charset: 'UTF-8' } }],
    ],
    [
      'quoted-pair escapes and commas inside quotes',
      'Bearer realm="https://a.example/t?x=\\"y\\"",scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"',
      [{ scheme: 'bearer', params: { realm: 'https://a.example/t?x="y"', scope: 'repository:a:pull,push repository:b:pull', error: 'insufficient_scope' } }],
    ],
    [
      'several challenges in one header',
      'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
      [
        { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
        { scheme: 'basic', params: { realm: 'simple' } },
      ],
    ],
    ['a scheme with no parameters, then another', 'Negotiate, Basic realm="x"', [{ scheme: 'negotiate', params: {} }, { scheme: 'basic', params: { realm: 'x' } }]],
    ['token68', 'Negotiate YII=, Basic realm="x"', [{ scheme: 'negotiate', params: {}, token68: 'YII=' }, { scheme: 'basic', params: { realm: 'x' } }]],
    ['empty header', '', []],
    ['garbage does not throw', '===,,, "', []],
  ])('%s', (_name, header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });

  it('joins several header lines', () => {
    const challenges = parseWwwAuthenticate(['Basic realm="harbor"', 'Bearer realm="https://h/service/token",service="harbor-registry"']);
    expect(challenges.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(hasBasic(challenges)).toBe(true);
    expect(findBearer(challenges)).toEqual({ realm: 'https://h/service/token', service: 'harbor-registry', scopes: [] });
  });

  it('splits a Bearer scope list and keeps the error', () => {
    const bearer = findBearer(parseWwwAuthenticate('Bearer realm="r",scope="repository:a:pull repository:b:push",error="insufficient_scope"'));
    expect(bearer).toEqual({ realm: 'r', scopes: ['repository:a:pull', 'repository:b:push'], error: 'insufficient_scope' });
  });

  it('ignores a Bearer challenge without realm', () => {
    expect(findBearer(parseWwwAuthenticate('Bearer service="x"'))).toBeUndefined();
    expect(findBearer(parseWwwAuthenticate(undefined))).toBeUndefined();
  });
});

describe('mergeScopes', () => {
  it('merges actions per resource, sorted, and lets * win', () => {
    expect(mergeScopes(['repository:a:push', 'repository:a:pull', 'repository:b:pull', 'repository:a:pull'])).toEqual([
      'repository:a:pull,push',
      'repository:b:pull',
    ]);
    expect(mergeScopes(['repository:a:pull', 'repository:a:*'])).toEqual(['repository:a:*']);
    expect(mergeScopes(['registry:catalog:*', 'aws', ''])).toEqual(['aws', 'registry:catalog:*']);
  });

  it('keeps a host:port inside the resource name', () => {
    expect(mergeScopes(['repository:localhost:5000/a:pull', 'repository:localhost:5000/a:push'])).toEqual(['repository:localhost:5000/a:pull,push']);
  });

  it('builds repository scopes', () => {
    expect(repositoryScope('p/spectro-packs/archive/x', ['pull', 'push'])).toBe('repository:p/spectro-packs/archive/x:pull,push');
  });
});
