import { describe, expect, it } from 'vitest';
import { forgetSecrets, redactText, redactUrl, registerSecret } from '../../../src/util/redact.js';

describe('redactUrl', () => {
  it.each([
    [
      'S3 presigned URL (ECR blob redirect)',
      'https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/abcd/sha256:1?X-Amz-Security-Token=IQoJb3JpZ2lu&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240601T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Credential=ASIAXXXX%2F20240601%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=deadbeef',
      'https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/abcd/sha256:1?X-Amz-Security-Token=***&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240601T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Credential=***&X-Amz-Signature=***',
    ],
    ['userinfo', 'https://user:pa55@registry.example.com/v2/', 'https://***@registry.example.com/v2/'],
    ['token and sig params', 'https://a.example/p?token=abc&sig=def&n=10&access_token=x', 'https://a.example/p?token=***&sig=***&n=10&access_token=***'],
    [
      'distribution upload state, digest kept',
      'http://127.0.0.1:5000/v2/a/blobs/uploads/0b1c?_state=eyJOYW1lIjoiYSJ9&digest=sha256%3Aabc',
      'http://127.0.0.1:5000/v2/a/blobs/uploads/0b1c?_state=***&digest=sha256%3Aabc',
    ],
    ['token scope query kept readable', 'https://h/service/token?service=harbor-registry&scope=repository:p/r:pull,push', 'https://h/service/token?service=harbor-registry&scope=repository:p/r:pull,push'],
    ['fragment dropped', 'https://h/x#frag', 'https://h/x'],
    ['relative Location', '/v2/a/blobs/uploads/1?_state=secret&x=1', '/v2/a/blobs/uploads/1?_state=***&x=1'],
  ])('%s', (_name, input, expected) => {
    expect(redactUrl(input)).toBe(expected);
    expect(redactUrl(input)).not.toMatch(/deadbeef|pa55|IQoJb3JpZ2lu|eyJOYW1lIjoiYSJ9|secret/);
  });

  it('accepts URL objects', () => {
    expect(redactUrl(new URL('https://u:p@h:8443/a?Signature=zz'))).toBe('https://***@h:8443/a?Signature=***');
  });
});

describe('redactText', () => {
  it('removes Authorization values, URL secrets and registered secrets', () => {
    registerSecret('hunter2-long-password');
    const text =
      'failed: Authorization: Basic dXNlcjpodW50ZXIyLWxvbmc=, Bearer eyJhbGciOiJSUzI1NiJ9.x.y at https://h/p?X-Amz-Signature=abc; password hunter2-long-password';
    const out = redactText(text);
    expect(out).toBe('failed: Authorization: Basic ***, Bearer *** at https://h/p?X-Amz-Signature=***; password ***');
  });

  it('leaves prose about auth schemes alone', () => {
    expect(redactText('Basic authentication required; Bearer challenge ignored')).toBe('Basic authentication required; Bearer challenge ignored');
  });

  it('scrubs a short secret where it stands as a token, never inside a longer word', () => {
    registerSecret('abc');
    expect(redactText('bad password abc for u; "abc" (abc) abcdef cabc')).toBe('bad password *** for u; "***" (***) abcdef cabc');
    registerSecret('p.+');
    expect(redactText('password p.+, not pa+ or xp.+y')).toBe('password ***, not pa+ or xp.+y');
    registerSecret('');
    expect(redactText('nothing to see')).toBe('nothing to see');
  });

  it('scrubs nothing it was told before forgetSecrets()', () => {
    registerSecret('xy');
    registerSecret('a-long-secret');
    expect(redactText('xy a-long-secret')).toBe('*** ***');
    forgetSecrets();
    expect(redactText('xy a-long-secret')).toBe('xy a-long-secret');
  });
});
