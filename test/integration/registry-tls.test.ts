import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES } from '../../src/oci/manifest.js';
import type { RegistryConnectionOptions } from '../../src/targets/options.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { startRegistry } from '../support/registry.js';
import { makeTestCertificates } from '../support/tls.js';
import { failure } from '../support/errors.js';
import { setup } from '../support/stage.js';

const anonymous = staticProvider('none', undefined);


async function withStore<T>(options: Omit<RegistryConnectionOptions, 'credentials'>, fn: (s: Awaited<ReturnType<typeof openGenericRegistryStore>>) => Promise<T>): Promise<T> {
  const store = await openGenericRegistryStore({ credentials: anonymous, retry: { attempts: 1 }, ...options });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe('registry over TLS with a private CA', () => {
  const w = setup(async (stack) => {
    const certs = stack.add(await makeTestCertificates({ hosts: ['127.0.0.1', 'localhost', 'registry.packpub.test'] }));
    const registry = stack.add(await startRegistry({ tls: certs }));
    return { certs, registry };
  });

  it('fails with TLS and suggests --ca-file when the CA is not trusted', async () => {
    const err = await failure(withStore({ host: w.registry.host, plainHttp: false }, (s) => s.client.ping()));
    expect(err.code).toBe('TLS');
    expect(err.message).toMatch(new RegExp(`^TLS certificate of ${w.registry.host.replace(/\./g, '\\.')} could not be verified`));
    expect(err.message).not.toContain('\n');
    expect(err.hint).toBe('pass --ca-file <pem> for a private CA (or --insecure to skip verification)');
  });

  it('works with the CA given as caFile', async () => {
    await withStore({ host: w.registry.host, plainHttp: false, caFile: w.certs.caFile }, async (s) => {
      await s.client.ping();
      await s.pushBlob('tls/repo', EMPTY_CONFIG, () => Readable.from([EMPTY_CONFIG_BYTES]));
      expect(await s.hasBlob('tls/repo', EMPTY_CONFIG.digest)).toBe(true);
    });
  });

  it('works with insecure (no verification)', async () => {
    await withStore({ host: w.registry.host, plainHttp: false, insecure: true }, async (s) => {
      expect(await s.hasBlob('tls/repo', EMPTY_CONFIG.digest)).toBe(true);
    });
  });

  it('verifies the certificate against the name given, also through a --resolve mapping', async () => {
    const named = `registry.packpub.test:${w.registry.port}`;
    await withStore(
      { host: named, caFile: w.certs.caFile, resolve: [`registry.packpub.test:${w.registry.port}:127.0.0.1`] },
      async (s) => {
        await s.client.ping();
        expect(await s.hasBlob('tls/repo', EMPTY_CONFIG.digest)).toBe(true);
      },
    );
    // a name the certificate does not cover is refused even though the CA is trusted
    const other = `other.packpub.test:${w.registry.port}`;
    const err = await failure(
      withStore({ host: other, caFile: w.certs.caFile, resolve: [`other.packpub.test:${w.registry.port}:127.0.0.1`] }, (s) => s.client.ping()),
    );
    expect(err.code).toBe('TLS');
  });

  it('refuses a CA file that cannot be read, before any request', async () => {
    const err = await failure(withStore({ host: w.registry.host, plainHttp: false, caFile: `${w.certs.dir}/missing.pem` }, (s) => s.client.ping()));
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('--ca-file');
  });

  it('tells the user to pass --plain-http when HTTPS meets an HTTP-only registry', async () => {
    const plain = await startRegistry();
    try {
      const err = await failure(withStore({ host: plain.host, plainHttp: false }, (s) => s.client.ping()));
      expect(err.code).toBe('NETWORK');
      expect(err.hint).toContain('--plain-http');
    } finally {
      await plain.stop();
    }
  });
});
