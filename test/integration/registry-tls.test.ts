import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { describe, expect, it, vi } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES } from '../../src/oci/manifest.js';
import type { RegistryConnectionOptions } from '../../src/targets/options.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { createHttpTransport, makeSecureContext, type HttpTransport, type TransportOptions } from '../../src/registry/http.js';
import { startRegistry } from '../support/registry.js';
import { makeClientCertificate, makeTestCertificates } from '../support/tls.js';
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
    // another CA, which did not sign the registry's certificate
    const otherCa = stack.add(await makeTestCertificates());
    return { certs, registry, otherCa };
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

  it('makes one secure context per process for the same files, with the public roots and the CA; every connection uses it, and TLS sessions stay each transport\'s own (issues 16, 11)', async () => {
    // CA files of this test's own: the CA after a line of text (Node's `ca` leaves it out), so no earlier test made
    // their contexts; the same trust, other material.
    const caText = readFileSync(w.certs.caFile, 'utf8');
    const caFile = join(w.certs.dir, 'context-a.pem');
    const otherCaFile = join(w.certs.dir, 'context-b.pem');
    writeFileSync(caFile, `context a\n${caText}`);
    writeFileSync(otherCaFile, `context b\n${caText}`);
    const client = await makeClientCertificate(w.certs, 'context-client');
    const made = vi.spyOn(tls, 'createSecureContext');
    const connect = vi.spyOn(tls, 'connect');
    const url = new URL(`https://${w.registry.host}/v2/`);
    const transports: HttpTransport[] = [];
    /** A new transport (another run, or another target of one) and one request through it: the socket it opened. */
    const oneRequest = async (options: Partial<TransportOptions>): Promise<tls.TLSSocket> => {
      const transport = createHttpTransport({ host: w.registry.host, plainHttp: false, ...options });
      transports.push(transport);
      const opened = connect.mock.calls.length;
      const res = await transport.request({ method: 'GET', url });
      res.body.resume();
      expect(res.status).toBe(200);
      expect(connect.mock.calls.length).toBe(opened + 1);
      return connect.mock.results[opened]!.value as tls.TLSSocket;
    };
    try {
      // parallel requests on a pool: several connections
      const first = createHttpTransport({ host: w.registry.host, plainHttp: false, caFile });
      transports.push(first);
      const answers = await Promise.all(Array.from({ length: 4 }, () => first.request({ method: 'GET', url })));
      for (const res of answers) res.body.resume();
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(connect.mock.calls.length).toBeGreaterThan(1);
      expect(made).toHaveBeenCalledTimes(1);
      const ca = (made.mock.calls[0]![0] as { ca: string[] }).ca;
      // Node's `ca` replaces its trust store: every public root is still in it, the certificates of
      // NODE_EXTRA_CA_CERTS this process started with (trust; test/e2e/extra-ca-certs.test.ts), and the private CA
      const extra = process.env['NODE_EXTRA_CA_CERTS'];
      expect(ca).toEqual([...tls.rootCertificates, ...(extra === undefined || extra === '' ? [] : [readFileSync(extra, 'utf8')]), `context a\n${caText}`]);
      const context = made.mock.results[0]!.value as tls.SecureContext;
      for (const [options] of connect.mock.calls) expect((options as tls.ConnectionOptions).secureContext).toBe(context);

      // Another transport given the same file: the same context, no trust store made again; and a full handshake
      // of its own, no session of the first transport offered or resumed.
      const again = await oneRequest({ caFile });
      expect(made).toHaveBeenCalledTimes(1);
      expect((connect.mock.calls.at(-1)![0] as tls.ConnectionOptions).secureContext).toBe(context);
      expect((connect.mock.calls.at(-1)![0] as tls.ConnectionOptions).session ?? null).toBeNull();
      expect(again.isSessionReused()).toBe(false);

      // Other material, another context: another CA file; the client certificate (a context of its own for the
      // registry's connections), made once too.
      await oneRequest({ caFile: otherCaFile });
      expect(made).toHaveBeenCalledTimes(2);
      expect(made.mock.results[1]!.value).not.toBe(context);
      const withCertificate = await oneRequest({ caFile, certFile: client.certFile, keyFile: client.keyFile });
      expect(made).toHaveBeenCalledTimes(3);
      expect(made.mock.calls[2]![0]).toMatchObject({ ca, cert: readFileSync(client.certFile, 'utf8'), key: readFileSync(client.keyFile, 'utf8') });
      expect(made.mock.results[2]!.value).not.toBe(context);
      expect((connect.mock.calls.at(-1)![0] as tls.ConnectionOptions).secureContext).toBe(made.mock.results[2]!.value);
      expect(withCertificate.isSessionReused()).toBe(false);
      await oneRequest({ caFile, certFile: client.certFile, keyFile: client.keyFile });
      expect(made).toHaveBeenCalledTimes(3);
    } finally {
      for (const transport of transports) await transport.close();
      made.mockRestore();
      connect.mockRestore();
    }
  });

  it('a CA file changed on disk between two runs in one process is honoured: the CA it holds now is the one trusted (issue 11)', async () => {
    const caFile = join(w.certs.dir, 'changing.pem');
    const ping = (expected: 'ok' | 'TLS') =>
      expected === 'ok'
        ? withStore({ host: w.registry.host, plainHttp: false, caFile }, (s) => s.client.ping())
        : failure(withStore({ host: w.registry.host, plainHttp: false, caFile }, (s) => s.client.ping())).then((err) => expect(err.code).toBe('TLS'));
    writeFileSync(caFile, readFileSync(w.otherCa.caFile));
    await ping('TLS');
    writeFileSync(caFile, readFileSync(w.certs.caFile));
    await ping('ok');
    writeFileSync(caFile, readFileSync(w.otherCa.caFile));
    await ping('TLS');
  });

  it('keeps at most 8 secure contexts in a process, dropping the least recently used', () => {
    const caText = readFileSync(w.certs.caFile, 'utf8');
    const material = (n: number) => ({ ca: [`bound ${n}\n${caText}`] });
    const first = makeSecureContext(material(0));
    for (let n = 1; n < 8; n++) makeSecureContext(material(n));
    expect(makeSecureContext(material(0))).toBe(first);
    const second = makeSecureContext(material(1));
    makeSecureContext(material(8)); // the ninth: drops the least recently used, material 2
    expect(makeSecureContext(material(0))).toBe(first);
    expect(makeSecureContext(material(1))).toBe(second);
    const made = vi.spyOn(tls, 'createSecureContext');
    try {
      makeSecureContext(material(2));
      expect(made).toHaveBeenCalledTimes(1);
    } finally {
      made.mockRestore();
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
