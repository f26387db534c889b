import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { proxiedSharedRegistry, pushTagCopyLand } from '../support/proxied-writes.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { rawAnswer, type UpstreamAnswer } from '../support/wire-proxy.js';

/*
 * Registry answers in HTTP that is odd, or not HTTP/1.1 at all, written on the wire by a proxy in front of a real
 * registry: a chunked body with trailers is read as any other; an answer with both Content-Length and
 * Transfer-Encoding (RFC 9112 6.3: to be handled as an error) is named as such, not as the network's fault.
 */

const w = setup((stack) => proxiedSharedRegistry(stack, 'packpub-odd-http-'));

/** The registry's answer sent again chunked, with a trailer, and with `extra` headers. */
function chunked(a: UpstreamAnswer, extra: Record<string, string> = {}): Buffer {
  const headers = Object.fromEntries(Object.entries(a.headers).filter(([k]) => !['content-length', 'transfer-encoding', 'connection'].includes(k)));
  const body = Buffer.concat([Buffer.from(a.body.length === 0 ? '' : `${a.body.length.toString(16)}\r\n`, 'latin1'), a.body, Buffer.from(`${a.body.length === 0 ? '' : '\r\n'}0\r\nX-Checksum: abc\r\n\r\n`, 'latin1')]);
  return rawAnswer(a.status, 'X', { ...headers, 'transfer-encoding': 'chunked', trailer: 'X-Checksum', ...extra }, body);
}

/** A push of a new pack `name`:1.0.0 whose every request the proxy answers 403 with `page` (and `headers`): the run, and the tags its repository holds after. */
async function pushRefused(name: string, page: Buffer, headers: Record<string, string | number>) {
  const dir = await writePack(join(w.root, name), { name, version: '1.0.0' });
  w.proxy.onRequest = () => ({ raw: rawAnswer(403, 'Forbidden', { ...headers, 'content-length': page.length }, page) });
  let run;
  try {
    run = await runCli(['push', dir, '--registry', w.R, '--no-cache']);
  } finally {
    w.proxy.onRequest = undefined;
  }
  return { run, tags: await w.reader.tags(`${w.registry.base}/spectro-packs/archive/${name}`) };
}

describe('odd HTTP answers', () => {
  it('every read answered chunked with a trailer: push, tag and copy land', async () => {
    await pushTagCopyLand(w, 'odd-chunked', (r) => (r.method === 'GET' ? { after: (a) => ({ raw: chunked(a) }) } : 'pass'));
  });

  it('a manifest read answered with Content-Length and Transfer-Encoding both: exit 1 naming it (was: "request to ... failed", "check the registry address and your network")', async () => {
    const dir = await writePack(join(w.root, 'odd-both'), { name: 'odd-both', version: '1.0.0' });
    expect((await runCli(['push', dir, '--registry', w.R, '--no-cache'])).code).toBe(0);
    w.proxy.onRequest = (r) => (r.method === 'GET' && r.path.includes('/manifests/') ? { after: (a) => ({ raw: chunked(a, { 'content-length': String(a.body.length) }) }) } : 'pass');
    const out = join(w.root, 'odd-both-out');
    let run;
    try {
      run = await runCli(['pull', 'odd-both:1.0.0', '-o', out, '--registry', w.R, '--retry-attempts', '1']);
    } finally {
      w.proxy.onRequest = undefined;
    }
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`${w.proxy.host} answered GET http://${w.proxy.host}/v2/${w.registry.base}/spectro-packs/archive/odd-both/manifests/1.0.0 in a way HTTP/1.1 does not allow (Content-Length can't be present with Transfer-Encoding)`);
    expect(run.stderr).toContain('does not answer as plain HTTP/1.1');
    expect(stackLines(run.stderr)).toEqual([]);
  });

  it('a 403 whose page is compressed (Content-Encoding: gzip, whatever packpub asked): named by its length, not quoted as binary bytes (was: "\\u001f\\ufffd\\b...")', async () => {
    const page = gzipSync('<html><head><title>Access Denied</title></head><body>Blocked by policy</body></html>');
    const { run, tags } = await pushRefused('odd-403-gzip', page, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`with 403 and a page that is no registry's answer (${page.length} bytes of gzip-compressed data)`);
    expect(run.stderr).not.toMatch(/\\u00|\ufffd/);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(tags).toEqual([]);
  });

  it('a 403 page longer than the 4 KiB read, in a language of multi-byte characters: its title quoted, not called "bytes that are not text" for the character the read cut in two', async () => {
    const head = '<html><head><title>アクセス拒否</title></head><body>';
    // ASCII up to byte 4095, then a 3-byte character across the 4096th byte: the first 4 KiB end inside it.
    const page = Buffer.from(`${head}${'x'.repeat(4095 - Buffer.byteLength(head))}${'ブロック'.repeat(200)}</body></html>`);
    const { run, tags } = await pushRefused('odd-403-cut', page, { 'content-type': 'text/html; charset=utf-8' });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`with 403 and a page that is no registry's answer ("アクセス拒否")`);
    expect(run.stderr).not.toContain('not text');
    expect(tags).toEqual([]);
  });

  it('a 403 with a web page (a proxy or firewall blocking the host) is named as such, with credentials given or not (was: "authentication required ... pass --username")', async () => {
    const dir = await writePack(join(w.root, 'odd-403'), { name: 'odd-403', version: '1.0.0' });
    const html = '<html><head><title>Access Denied</title></head><body>Blocked by policy</body></html>';
    w.proxy.onRequest = () => ({ raw: rawAnswer(403, 'Forbidden', { 'content-type': 'text/html', 'content-length': html.length }, html) });
    const runs = [];
    try {
      runs.push(await runCli(['push', dir, '--registry', w.R, '--no-cache']));
      runs.push(await runCli(['push', dir, '--registry', w.R, '--no-cache', '--username', 'u', '--password-stdin'], { stdin: 'pw-odd-403' }));
    } finally {
      w.proxy.onRequest = undefined;
    }
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`FAILED odd-403:1.0.0: ${w.proxy.host} refused GET http://${w.proxy.host}/v2/${w.registry.base}/spectro-packs/archive/odd-403/manifests/1.0.0 with 403 and a page that is no registry's answer ("Access Denied")`);
      expect(run.stderr).toContain('a proxy or firewall between packpub and the registry blocks the request');
      expect(run.stderr).not.toContain('authentication required');
      expect(stackLines(run.stderr)).toEqual([]);
    }
    expect(await w.reader.tags(`${w.registry.base}/spectro-packs/archive/odd-403`)).toEqual([]);
  });
});
