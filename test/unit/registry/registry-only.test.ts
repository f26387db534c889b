import { describe, expect, it } from 'vitest';
import { extraHeaders, parseHeader } from '../../../src/registry/registry-only.js';
import { redactText } from '../../../src/util/redact.js';
import { failure } from '../../support/errors.js';

describe('-H/--header parsing', () => {
  it('takes Name: value as curl and ORAS do, trimming the space around the value', () => {
    expect(parseHeader('X-Tenant: acme')).toEqual({ name: 'X-Tenant', value: 'acme' });
    expect(parseHeader('x-api-key:k:with:colons ')).toEqual({ name: 'x-api-key', value: 'k:with:colons' });
    expect(parseHeader('User-Agent: ci-bot/1')).toEqual({ name: 'User-Agent', value: 'ci-bot/1' });
  });

  it.each([
    ['X-Tenant acme', '--header is not "Name: value"'],
    [': acme', '--header is not "Name: value"'],
    ['X Tenant: acme', '--header name "X Tenant" is not a valid header name'],
    ['X-Tenant:', '--header X-Tenant has no value'],
    ['X-Tenant:   ', '--header X-Tenant has no value'],
    ['X-Tenant: a\r\nHost: evil', '--header X-Tenant: the value holds a line break or NUL'],
  ])('refuses %j', async (text, message) => {
    const err = await failure((async () => parseHeader(text))());
    expect(err.code).toBe('USAGE');
    expect(err.message).toBe(message);
  });

  it.each(['Host', 'content-length', 'Transfer-Encoding', 'Connection', 'Content-Type', 'Accept', 'Range', 'Expect'])('refuses %s, which packpub sets itself', async (name) => {
    const err = await failure((async () => parseHeader(`${name}: x`))());
    expect(err.code).toBe('USAGE');
    expect(err.message).toMatch(new RegExp(`^--header ${name} is not accepted: `));
  });

  it('refuses Authorization and points to the credential flags, without quoting the value', async () => {
    const err = await failure((async () => parseHeader('Authorization: Bearer s3cr3t-token-value', '--to-header'))());
    expect(err.message).toBe('--to-header Authorization is not accepted: credentials go through the credential flags');
    expect(err.hint).toContain('--password-stdin');
    expect(`${err.message} ${err.hint ?? ''}`).not.toContain('s3cr3t');
  });

  it('collects several headers by lowercase name, refuses one given twice, and registers the values for redaction', async () => {
    expect(extraHeaders(['X-A: one-value-1', 'X-B: two-value-2'])).toEqual({ 'x-a': 'one-value-1', 'x-b': 'two-value-2' });
    expect(redactText('echoed two-value-2 back')).toBe('echoed *** back');
    // A short value is no secret in practice; masking it would mask that word in every message.
    expect(extraHeaders(['X-Tenant: 1', 'X-Flag: true'])).toEqual({ 'x-tenant': '1', 'x-flag': 'true' });
    expect(redactText('1 pack published, true to its digest')).toBe('1 pack published, true to its digest');
    const err = await failure((async () => extraHeaders(['X-A: 1', 'x-a: 2']))());
    expect(err.message).toBe('--header x-a is given twice');
  });
});
