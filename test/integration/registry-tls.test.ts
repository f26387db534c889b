import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { describe, expect, it, vi } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES } from '../../src/oci/manifest.js';
import type { RegistryConnectionOptions } from '../../src/targets/options.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { createHttpTransport } from '../../src/registry/http.js';
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

  it('makes one secure context per transport, with the public roots and the CA, and every connection uses it (issue 16)', async () => {
    const made = vi.spyOn(tls, 'createSecureContext');
    const connect = vi.spyOn(tls, 'connect');
    const transport = createHttpTransport({ host: w.registry.host, plainHttp: false, caFile: w.certs.caFile });
    try {
      // parallel requests on a pool: several connections
      const answers = await Promise.all(Array.from({ length: 4 }, () => transport.request({ method: 'GET', url: new URL(`https://${w.registry.host}/v2/`) })));
      for (const res of answers) res.body.resume();
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(connect.mock.calls.length).toBeGreaterThan(1);
      expect(made).toHaveBeenCalledTimes(1);
      const ca = (made.mock.calls[0]![0] as { ca: string[] }).ca;
      // Node's `ca` replaces its trust store: every public root is still in it, the certificates of
      // NODE_EXTRA_CA_CERTS this process started with (trust; test/e2e/extra-ca-certs.test.ts), and the private CA
      const extra = process.env['NODE_EXTRA_CA_CERTS'];
      expect(ca).toEqual([...tls.rootCertificates, ...(extra === undefined || extra === '' ? [] : [readFileSync(extra, 'utf8')]), readFileSync(w.certs.caFile, 'utf8')]);
      const context = made.mock.results[0]!.value as tls.SecureContext;
      for (const [options] of connect.mock.calls) expect((options as tls.ConnectionOptions).secureContext).toBe(context);
      // a second transport (another target) has its own
      const other = createHttpTransport({ host: w.registry.host, plainHttp: false, caFile: w.certs.caFile });
      try {
        (await other.request({ method: 'GET', url: new URL(`https://${w.registry.host}/v2/`) })).body.resume();
        expect(made).toHaveBeenCalledTimes(2);
        expect(made.mock.results[1]!.value).not.toBe(context);
      } finally {
        await other.close();
      }
    } finally {
      await transport.close();
      made.mockRestore();
      connect.mockRestore();
    }
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
