import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway CA and a server certificate it signed, as PEM files in a temp dir. */
export interface TestCertificates {
  dir: string;
  /** CA certificate (what `--ca-file` takes). */
  caFile: string;
  /** Server certificate and its key (what the registry serves). */
  certFile: string;
  keyFile: string;
  /** The names and IPs in the server certificate's subjectAltName. */
  hosts: string[];
  cleanup(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`);
  }
}

/**
 * Make a private CA and a server certificate for `hosts` (default 127.0.0.1 and localhost) with the
 * `openssl` CLI, EC P-256 keys, valid for two days. Call cleanup() in afterAll.
 */
export async function makeTestCertificates(options: { hosts?: string[] } = {}): Promise<TestCertificates> {
  const hosts = options.hosts ?? ['127.0.0.1', 'localhost'];
  const dir = await mkdtemp(join(tmpdir(), 'packpub-tls-'));
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await openssl(
      ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=packpub test CA',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      dir,
    );
    await openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${hosts[0] ?? 'localhost'}`], dir);
    const san = hosts.map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? `IP:${h}` : `DNS:${h}`)).join(',');
    await writeFile(
      join(dir, 'server.ext'),
      `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
    );
    await openssl(
      ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem',
        '-days', '2', '-extfile', 'server.ext'],
      dir,
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    hosts,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A client certificate (mTLS) signed by the CA of `certs`, as PEM files in its dir. */
export interface ClientCertificate {
  certFile: string;
  keyFile: string;
}

/**
 * A client certificate for `name` (extendedKeyUsage clientAuth, as Go's server checks) signed by the
 * throwaway CA of `certs`; `selfSigned` makes one no registry trusts.
 */
export async function makeClientCertificate(certs: TestCertificates, name: string, options: { selfSigned?: boolean } = {}): Promise<ClientCertificate> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ext = `${name}.ext`;
  await writeFile(join(certs.dir, ext), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  if (options.selfSigned === true) {
    await openssl(['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'extendedKeyUsage=clientAuth'], certs.dir);
  } else {
    await openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], certs.dir);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', ext], certs.dir);
  }
  return { certFile: join(certs.dir, `${name}.pem`), keyFile: join(certs.dir, `${name}.key`) };
}
