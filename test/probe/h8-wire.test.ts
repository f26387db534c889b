import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { proxiedSharedRegistry } from '../support/proxied-writes.js';
import { setup } from '../support/stage.js';
import { rawAnswer, type UpstreamAnswer, type WireAction } from '../support/wire-proxy.js';

const w = setup((stack) => proxiedSharedRegistry(stack, 'packpub-h8wire-'));
const strip = (h: Record<string, string | string[]>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection'));
const chunked = (a: UpstreamAnswer, extra: Record<string, string> = {}, trailer = true) => {
  const parts = a.body.length === 0 ? '' : `${a.body.length.toString(16)}\r\n`;
  const body = Buffer.concat([Buffer.from(parts, 'latin1'), a.body, Buffer.from(a.body.length === 0 ? '' : '\r\n', 'latin1'), Buffer.from(`0\r\n${trailer ? 'X-Checksum: abc\r\n' : ''}\r\n`, 'latin1')]);
  return rawAnswer(a.status, 'X', { ...strip(a.headers), 'transfer-encoding': 'chunked', ...(trailer ? { trailer: 'X-Checksum' } : {}), ...extra }, body);
};
const cases: Record<string, (r: { method: string; path: string }) => WireAction> = {
  chunkedTrailers: (r) => (r.method === 'GET' ? { after: (a) => ({ raw: chunked(a) }) } : 'pass'),
  clAndChunked: (r) => (r.method === 'GET' ? { after: (a) => ({ raw: chunked(a, { 'content-length': String(a.body.length) }, false) }) } : 'pass'),
  dupCl: (r) => (r.method === 'GET' && r.path.includes('/manifests/') ? { after: (a) => ({ raw: rawAnswer(a.status, 'X', { ...strip(a.headers), 'content-length': [String(a.body.length), String(a.body.length)] }, a.body) }) } : 'pass'),
  bareLf: (r) => (r.method === 'GET' && r.path.includes('/manifests/') ? { after: (a) => ({ raw: Buffer.concat([Buffer.from(`HTTP/1.1 ${a.status} OK\ncontent-length: ${a.body.length}\ncontent-type: application/vnd.oci.image.manifest.v1+json\n\n`), a.body]) }) } : 'pass'),
  gzipManifest: (r) => (r.method === 'GET' && r.path.includes('/manifests/') ? { after: (a) => { const z = gzipSync(a.body); return { raw: rawAnswer(a.status, 'X', { ...strip(a.headers), 'content-encoding': 'gzip', 'content-length': z.length }, z) }; } } : 'pass'),
  gzipBlob: (r) => (r.method === 'GET' && r.path.includes('/blobs/') ? { after: (a) => { const z = gzipSync(a.body); return { raw: rawAnswer(a.status, 'X', { ...strip(a.headers), 'content-encoding': 'gzip', 'content-length': z.length }, z) }; } } : 'pass'),
  noReason: (r) => (r.method === 'GET' ? { after: (a) => ({ raw: Buffer.concat([Buffer.from(`HTTP/1.1 ${a.status}\r\ncontent-length: ${a.body.length}\r\n${Object.entries(strip(a.headers)).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n')}\r\n\r\n`), a.body]) }) } : 'pass'),
  obsFold: (r) => (r.method === 'GET' && r.path.includes('/manifests/') ? { after: (a) => ({ raw: Buffer.concat([Buffer.from(`HTTP/1.1 ${a.status} OK\r\ncontent-length: ${a.body.length}\r\nx-note: one\r\n two\r\n${Object.entries(strip(a.headers)).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n')}\r\n\r\n`), a.body]) }) } : 'pass'),
  http10NoLen: (r) => (r.method === 'GET' && r.path.includes('/manifests/') ? { after: (a) => ({ raw: Buffer.concat([Buffer.from(`HTTP/1.0 ${a.status} OK\r\n${Object.entries(strip(a.headers)).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n')}\r\n\r\n`), a.body]), end: true }) } : 'pass'),
};

it('probe wire', async () => {
  let i = 0;
  for (const [name, hook] of Object.entries(cases)) {
    const pack = `wire${i++}`;
    const dir = await writePack(join(w.root, pack), { name: pack, version: '1.0.0' });
    const direct = await runCli(['push', dir, '--registry', `${w.registry.host}/${w.registry.base}`, '--no-cache']);
    w.proxy.onRequest = hook as never;
    const out = join(w.root, `${pack}-out`);
    const runs = {
      push2: await runCli(['push', dir, '--registry', w.R, '--no-cache', '--request-timeout', '3', '--retry-attempts', '1']),
      pull: await runCli(['pull', `${pack}:1.0.0`, '-o', out, '--registry', w.R, '--request-timeout', '3', '--retry-attempts', '1']),
      list: await runCli(['list', pack, '--registry', w.R, '--request-timeout', '3', '--retry-attempts', '1']),
      inspect: await runCli(['inspect', `${pack}:1.0.0`, '--registry', w.R, '--request-timeout', '3', '--retry-attempts', '1']),
    };
    w.proxy.onRequest = undefined;
    console.log(`== ${name} (direct push ${direct.code})`);
    for (const [k, r] of Object.entries(runs)) console.log(`  ${k}: ${r.code} ${(r.code === 0 ? r.stdout : r.stderr).split('\n').slice(0, 3).join(' | ').slice(0, 400)}`);
  }
});
