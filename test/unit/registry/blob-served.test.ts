import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../../src/credentials/chain.js';
import type { Digest } from '../../../src/oci/digest.js';
import { RegistryClient } from '../../../src/registry/client.js';
import { scripted, type Answer } from '../../support/fake-transport.js';

/*
 * blobServed: the first byte of a blob a HEAD said the registry holds, read before a manifest names it (a cache or
 * proxy can answer HEAD for a blob the registry lacks). Only a 404 says "not there"; a registry that ignores Range, or
 * refuses the read to an identity that may push but not pull, leaves it to the HEAD's word, and nothing fails.
 */

const DIGEST = `sha256:${'d'.repeat(64)}` as Digest;

async function served(answer: Answer): Promise<{ held: boolean; sent: ReturnType<typeof scripted>['sent'] }> {
  const { transport, sent } = scripted(() => answer);
  const client = RegistryClient.create({ host: 'r.example', credentials: staticProvider('basic', { username: 'u', password: 'pw-served-1' }), retry: { attempts: 1 } }, { transport });
  return { held: await client.blobServed('a/b', DIGEST), sent };
}

describe('blobServed', () => {
  it.each([
    ['206, the byte asked for', { status: 206, headers: { 'content-range': 'bytes 0-0/9' }, body: 'x' }, true],
    ['200, Range ignored', { status: 200, body: 'whole blob' }, true],
    ['404 BLOB_UNKNOWN', { status: 404, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}' }, false],
    ['403 DENIED (push without pull)', { status: 403, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"DENIED","message":"no"}]}' }, true],
    ['500', { status: 500 }, true],
  ] as const)('%s: %s', async (_what, answer, expected) => {
    const { held, sent } = await served(answer as Answer);
    expect(held).toBe(expected);
    expect(sent[0]?.method).toBe('GET');
    expect(sent[0]?.url).toBe(`https://r.example/v2/a/b/blobs/${DIGEST}`);
    expect(sent[0]?.req.headers?.['range']).toBe('bytes=0-0');
  });
});
