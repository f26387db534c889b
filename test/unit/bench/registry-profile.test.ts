import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodePprof,
  profileRegistry,
  REGISTRY_PROFILE_ERROR_FILE,
  REGISTRY_PROFILE_FILE,
  registryProfileMarkdown,
  summarisePprof,
} from '../../../bench/registry-profile.js';

/*
 * The fixture is a Go CPU profile made here with a small protobuf writer, following the public
 * profile.proto (github.com/google/pprof/proto/profile.proto): Profile { 1 sample_type, 2 sample,
 * 4 location, 5 function, 6 string_table, 10 duration_nanos, 12 period }, Sample { 1 location_id,
 * 2 value }, Location { 1 id, 4 line { 1 function_id } }, Function { 1 id, 2 name }, ValueType
 * { 1 type, 2 unit }, gzip'd as Go's /debug/pprof/profile answers it.
 */

const dirs: string[] = [];
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
const int = (field: number, n: number) => [...varint(field * 8), ...varint(n)];
const bytes = (field: number, b: number[] | Uint8Array) => [...varint(field * 8 + 2), ...varint(b.length), ...b];
const packed = (field: number, ns: number[]) => bytes(field, ns.flatMap(varint));
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s)]);

const MUX = 'github.com/gorilla/mux.(*Router).ServeHTTP';
const PUT_MANIFEST = 'github.com/docker/distribution/registry/handlers.(*manifestHandler).PutManifest';
const ROUTER = 'github.com/docker/distribution/registry/api/v2.Router';
const CONTEXT = 'github.com/docker/distribution/registry/handlers.(*App).context';
const FUNCTIONS = ['runtime/internal/syscall.Syscall6', 'os.(*File).Sync', PUT_MANIFEST, MUX, 'regexp.compile', ROUTER, CONTEXT, 'runtime.gcBgMarkWorker', 'crypto/sha256.block', 'main.other'];

/** Stacks by function index (leaf first) and their CPU in milliseconds. */
function profileBytes(samples: Array<{ fns: number[]; ms: number }>, options: { unpacked?: boolean } = {}): Buffer {
  const strings = ['', 'samples', 'count', 'cpu', 'nanoseconds', ...FUNCTIONS];
  const out: number[] = [];
  out.push(...bytes(1, [...int(1, 1), ...int(2, 2)]), ...bytes(1, [...int(1, 3), ...int(2, 4)]));
  for (const s of samples) {
    // Function i is at location i + 1, except that functions 0 and 1 share location 100 (Syscall6 inlined
    // into Sync: one location, two lines, the inlined function first); function 0 is only ever named with 1.
    const locations = s.fns.filter((f) => f !== 0).map((f) => (f === 1 ? 100 : f + 1));
    const values = [Math.round(s.ms / 10), s.ms * 1e6];
    out.push(...bytes(2, options.unpacked === true ? [...locations.flatMap((l) => int(1, l)), ...values.flatMap((v) => int(2, v))] : [...packed(1, locations), ...packed(2, values)]));
  }
  out.push(...bytes(4, [...int(1, 100), ...bytes(4, int(1, 1)), ...bytes(4, int(1, 2))]));
  for (let f = 2; f < FUNCTIONS.length; f++) out.push(...bytes(4, [...int(1, f + 1), ...int(3, 0x401000 + f), ...bytes(4, [...int(1, f + 1), ...int(2, 42)])]));
  for (let f = 0; f < FUNCTIONS.length; f++) out.push(...bytes(5, [...int(1, f + 1), ...int(2, f + 5), ...int(4, 0)]));
  for (const s of strings) out.push(...str(6, s));
  out.push(...int(9, 1_700_000_000_000_000_000 / 1e3), ...int(10, 1_000_000_000), ...int(12, 10_000_000));
  return gzipSync(Buffer.from(out));
}

const SAMPLES = [
  { fns: [0, 1, 2, 3], ms: 300 }, // fsync under PUT manifest, under mux
  { fns: [4, 3, 5, 6, 3], ms: 200 }, // regexp under the route table rebuilt in App.context
  { fns: [2, 3], ms: 100 }, // PUT manifest's own code
  { fns: [7], ms: 250 }, // GC
  { fns: [8, 2, 3], ms: 50 }, // sha256 under PUT manifest
  { fns: [9], ms: 100 },
];

describe('decodePprof', () => {
  it('reads stacks leaf first, inlined frames expanded, with their CPU nanoseconds, packed or not', () => {
    for (const unpacked of [false, true]) {
      const p = decodePprof(profileBytes(SAMPLES, { unpacked }));
      expect(p.durationNs).toBe(1_000_000_000);
      expect(p.samples).toHaveLength(SAMPLES.length);
      expect(p.samples[0]).toEqual({ stack: ['runtime/internal/syscall.Syscall6', 'os.(*File).Sync', PUT_MANIFEST, MUX], cpuNs: 300e6 });
      expect(p.samples[1]?.stack).toEqual(['regexp.compile', MUX, ROUTER, CONTEXT, MUX]);
    }
  });

  it('reads an answer that is not gzip\'d, and refuses what is not a CPU profile with a reason', () => {
    expect(decodePprof(gunzipSync(profileBytes(SAMPLES))).samples).toHaveLength(SAMPLES.length);
    expect(() => decodePprof(Buffer.from([0x12, 0x05, 0x08]))).toThrow(/runs past its message/);
    expect(() => decodePprof(Buffer.from('<html>not found</html>'))).toThrow(/wire type|runs past|not a/);
    expect(() => decodePprof(Buffer.from(str(6, '')))).toThrow(/not a CPU profile/);
  });
});

describe('summarisePprof', () => {
  it('files each sample under one category, first match, and under the request kind whose handler it ran in', () => {
    const s = summarisePprof(decodePprof(profileBytes(SAMPLES)));
    const cat = Object.fromEntries(s.categories.map((e) => [e.label.split(' ')[0], e.cpuS]));
    expect(s.cpuS).toBeCloseTo(1.0, 6);
    expect(cat).toEqual({ fsync: 0.3, 'routing:': 0.2, 'handler:': 0.1, Go: 0.25, sha256: 0.05, other: 0.1 });
    const kinds = Object.fromEntries(s.kinds.map((e) => [e.label, e.cpuS]));
    expect(kinds['PUT manifest']).toBeCloseTo(0.45, 6);
    expect(kinds['any request, outside its handler (routing, dispatch, other requests)']).toBeCloseTo(0.2, 6);
    expect(s.functions[0]).toEqual({ label: 'runtime/internal/syscall.Syscall6', cpuS: 0.3, share: 0.3 });
  });
});

/**
 * A stand-in for Go's debug server: the request, then the answer once the client half-closes its side (as
 * Go's server ends the profile when the request stream ends), or at once with `early`.
 */
async function standIn(answer: { status: string; body: Buffer; early?: boolean }): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (answer.early === true && text.includes('\r\n\r\n')) socket.end(Buffer.concat([Buffer.from(`HTTP/1.0 ${answer.status}\r\n\r\n`), answer.body]));
    });
    socket.on('end', () => {
      requests.push(text);
      if (answer.early !== true) socket.end(Buffer.concat([Buffer.from(`HTTP/1.0 ${answer.status}\r\nContent-Type: application/octet-stream\r\n\r\n`), answer.body]));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

describe('profileRegistry', () => {
  it('asks for one profile, ends it when stopped, and RESULTS.md gets the tables and the floor', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'packpub-bench-pprof-'));
    dirs.push(dir);
    const server = await standIn({ status: '200 OK', body: profileBytes(SAMPLES) });
    const logs: string[] = [];
    const profiler = profileRegistry(server.url, dir, (l) => logs.push(l));
    await new Promise((r) => setTimeout(r, 20));
    expect(server.requests).toEqual([]);
    await profiler.stop(0.5);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatch(/^GET \/debug\/pprof\/profile\?seconds=3600 HTTP\/1\.0\r\n/);
    expect(logs).toEqual([]);
    const saved = JSON.parse(await readFile(join(dir, REGISTRY_PROFILE_FILE), 'utf8')) as { procCpuS: number; samples: unknown[] };
    expect(saved.procCpuS).toBe(0.5);
    expect(saved.samples).toHaveLength(SAMPLES.length);
    const md = (await registryProfileMarkdown(dir, 'bench/work/profiles/x', { cores: 2, registryCpuS: 4.4, compressionCpuS: 3.0 })) ?? [];
    const text = md.join('\n');
    expect(text).toContain('1.00 CPU-s sampled in 1.0 s (/proc counted 0.50 CPU-s for the registry over the same push)');
    expect(text).toContain('| fsync | 0.30 s | 30% |');
    expect(text).toContain('| PUT manifest | 0.45 s | 45% |');
    expect(text).toContain('| `runtime/internal/syscall.Syscall6` | 0.30 s | 30% |');
    expect(text).toContain('over 2 cores = 3.70 s even with perfect overlap and no packpub CPU at all, against the 2x target of 3.00 s: 0.70 s over it');
  });

  it('never throws: a failing debug server leaves a note that RESULTS.md shows, and the bench goes on', async () => {
    for (const [url, why] of [
      [
        (await standIn({ status: '500 Internal Server Error', body: Buffer.from('Could not enable CPU profiling: cpu profiling already in use\n'), early: true })).url,
        /answered "HTTP\/1\.0 500 Internal Server Error": Could not enable CPU profiling/,
      ],
      [(await standIn({ status: '200 OK', body: Buffer.from('<html>') })).url, /unsupported protobuf wire type/],
      ['http://127.0.0.1:1', /ECONNREFUSED/],
      [undefined, /started without its debug server/],
    ] as const) {
      const dir = await mkdtemp(join(tmpdir(), 'packpub-bench-pprof-'));
      dirs.push(dir);
      const logs: string[] = [];
      const profiler = profileRegistry(url, dir, (l) => logs.push(l));
      await new Promise((r) => setTimeout(r, 20));
      await expect(profiler.stop()).resolves.toBeUndefined();
      expect(logs.join('\n')).toMatch(why);
      expect(await readFile(join(dir, REGISTRY_PROFILE_ERROR_FILE), 'utf8')).toMatch(why);
      const md = (await registryProfileMarkdown(dir, 'x', { cores: 2 })) ?? [];
      expect(md.join('\n')).toMatch(/could not be taken: /);
    }
  });

  it('says so when the kept profile cannot be read, and says nothing when the run took none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'packpub-bench-pprof-'));
    dirs.push(dir);
    expect(await registryProfileMarkdown(dir, 'x', { cores: 2 })).toBeUndefined();
    await writeFile(join(dir, REGISTRY_PROFILE_FILE), '{"samples": [');
    expect((await registryProfileMarkdown(dir, 'x', { cores: 2 }))?.join('\n')).toMatch(/could not be read: /);
  });
});
