import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/*
 * A CPU profile of the docker-registry process (Go) during the first publish, and what it says.
 *
 * distribution serves Go's net/http/pprof on its debug server (`http.debug.addr`): GET
 * /debug/pprof/profile?seconds=N samples the process's CPU and answers a gzip'd profile.proto message (the
 * public pprof format, github.com/google/pprof/proto/profile.proto). No Go toolchain is needed: the message
 * is decoded here.
 */

/** The merged profile of a run, where the bench keeps it, and the note written when it could not be taken. */
export const REGISTRY_PROFILE_FILE = 'docker-registry.pprof.json';
export const REGISTRY_PROFILE_ERROR_FILE = 'docker-registry.pprof-error.txt';

export interface PprofSample {
  /** Function names, leaf first (inlined frames expanded). */
  stack: string[];
  /** CPU nanoseconds of this sample. */
  cpuNs: number;
}

export interface PprofProfile {
  samples: PprofSample[];
  /** Wall time the profile covered, nanoseconds. */
  durationNs: number;
}

// ---- protobuf wire format (varint, 64-bit, length-delimited, 32-bit) ----

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.length,
  ) {}

  /** A varint as a Number: exact below 2^53, which every id, count and nanosecond figure here is. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const byte = this.buf[this.pos++] as number;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.end) throw new Error('length-delimited field runs past its message');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wireType}`);
    if (this.pos > this.end) throw new Error('field runs past its message');
  }

  /** Each field of the message: its number, wire type, and this reader positioned on its value. */
  *fields(): Generator<{ field: number; wireType: number }> {
    while (this.pos < this.end) {
      const key = this.varint();
      yield { field: Math.floor(key / 8), wireType: key & 7 };
    }
  }
}

/** A repeated integer field, packed (wire type 2) or one value per key (wire type 0). */
function pushInts(r: Reader, wireType: number, into: number[]): void {
  if (wireType === 0) {
    into.push(r.varint());
    return;
  }
  if (wireType !== 2) throw new Error(`integer field with wire type ${wireType}`);
  const inner = new Reader(r.bytes());
  while (inner.pos < inner.end) into.push(inner.varint());
}

/** Read a sub-message's fields with `on`, skipping unknown ones. */
function message(bytes: Uint8Array, on: (r: Reader, field: number, wireType: number) => boolean): void {
  const r = new Reader(bytes);
  for (const { field, wireType } of r.fields()) if (!on(r, field, wireType)) r.skip(wireType);
}

/**
 * Decode a pprof profile (gzip'd or not) into samples with their function stacks and CPU time.
 * Profile fields used: 1 sample_type, 2 sample, 4 location, 5 function, 6 string_table, 10 duration_nanos,
 * 12 period.
 */
export function decodePprof(data: Uint8Array): PprofProfile {
  const raw = data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
  const strings: string[] = [];
  const sampleTypes: Array<{ type: number; unit: number }> = [];
  const rawSamples: Array<{ locations: number[]; values: number[] }> = [];
  const locations = new Map<number, number[]>(); // location id -> function ids, leaf (innermost inlined) first
  const functions = new Map<number, number>(); // function id -> name string index
  let durationNs = 0;
  let period = 0;
  message(raw, (r, field, wt) => {
    if (field === 1 && wt === 2) {
      const t = { type: 0, unit: 0 };
      message(r.bytes(), (s, f, w) => (f === 1 && w === 0 ? ((t.type = s.varint()), true) : f === 2 && w === 0 ? ((t.unit = s.varint()), true) : false));
      sampleTypes.push(t);
    } else if (field === 2 && wt === 2) {
      const s = { locations: [] as number[], values: [] as number[] };
      message(r.bytes(), (m, f, w) => (f === 1 ? (pushInts(m, w, s.locations), true) : f === 2 ? (pushInts(m, w, s.values), true) : false));
      rawSamples.push(s);
    } else if (field === 4 && wt === 2) {
      let id = 0;
      const fns: number[] = [];
      message(r.bytes(), (m, f, w) => {
        if (f === 1 && w === 0) id = m.varint();
        else if (f === 4 && w === 2) message(m.bytes(), (l, lf, lw) => (lf === 1 && lw === 0 ? (fns.push(l.varint()), true) : false));
        else return false;
        return true;
      });
      locations.set(id, fns);
    } else if (field === 5 && wt === 2) {
      let id = 0;
      let name = 0;
      message(r.bytes(), (m, f, w) => (f === 1 && w === 0 ? ((id = m.varint()), true) : f === 2 && w === 0 ? ((name = m.varint()), true) : false));
      functions.set(id, name);
    } else if (field === 6 && wt === 2) {
      strings.push(new TextDecoder().decode(r.bytes()));
    } else if (field === 10 && wt === 0) {
      durationNs = r.varint();
    } else if (field === 12 && wt === 0) {
      period = r.varint();
    } else {
      return false;
    }
    return true;
  });
  if (strings[0] !== undefined && strings[0] !== '') throw new Error('not a pprof profile: its string table does not start with ""');
  // Go's CPU profile: sample types [samples/count, cpu/nanoseconds].
  const cpuIndex = sampleTypes.findIndex((t) => strings[t.type] === 'cpu' && strings[t.unit] === 'nanoseconds');
  const countIndex = sampleTypes.findIndex((t) => strings[t.type] === 'samples');
  if (cpuIndex < 0 && (countIndex < 0 || period === 0)) throw new Error('not a CPU profile: no cpu/nanoseconds sample type');
  const name = (fid: number) => strings[functions.get(fid) ?? -1] ?? '?';
  const samples = rawSamples.map((s) => ({
    stack: s.locations.flatMap((loc) => (locations.get(loc) ?? []).map(name)),
    cpuNs: cpuIndex >= 0 ? (s.values[cpuIndex] ?? 0) : (s.values[countIndex] ?? 0) * period,
  }));
  return { samples, durationNs };
}

/** One sample per distinct stack, CPU added up (what the bench keeps on disk). */
export function mergeStacks(samples: readonly PprofSample[]): PprofSample[] {
  const byStack = new Map<string, PprofSample>();
  for (const s of samples) {
    const key = s.stack.join('\n');
    const seen = byStack.get(key);
    if (seen === undefined) byStack.set(key, { stack: s.stack, cpuNs: s.cpuNs });
    else seen.cpuNs += s.cpuNs;
  }
  return [...byStack.values()];
}

// ---- collecting from a running registry ----

export interface RegistryProfiler {
  /**
   * End the profile, read it, and write it (or why there is none) into `dir`, with the registry's CPU that
   * /proc counted over the same push (`procCpuS`), to show how much of it was sampled. Never throws.
   */
  stop(procCpuS?: number): Promise<void>;
}

/** The longest profile asked for; the push ends it much sooner (see profileRegistry). */
const MAX_SECONDS = 3600;

async function connectSoon(host: string, port: number): Promise<Socket> {
  // The debug server starts beside the registry's own listener: give it a moment to be there.
  for (let tries = 0; ; tries++) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = connect({ host, port, allowHalfOpen: true });
        socket.once('error', reject);
        socket.once('connect', () => {
          socket.off('error', reject);
          resolve(socket);
        });
      });
    } catch (err) {
      if (tries >= 20 || (err as { code?: string }).code !== 'ECONNREFUSED') throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Profile the registry whose debug server answers at `debugUrl` (http://127.0.0.1:PORT) from now until
 * stop(), into `dir`. One profile covers exactly the push: it is asked for with a long `seconds`, and
 * stop() half-closes the connection; Go's server sees the end of the request stream, cancels the request's
 * context, which ends the handler's wait, and it stops the profile and writes it on the still-open half.
 * (Profiles of 1 s back to back sampled only about 60 % of the CPU /proc counted, this about 85 %: each
 * start and stop loses samples.) HTTP/1.0, so the answer is the profile bytes up to the end of the stream.
 */
export function profileRegistry(debugUrl: string | undefined, dir: string, log: (line: string) => void): RegistryProfiler {
  const opened = (async () => {
    if (debugUrl === undefined) throw new Error('the registry was started without its debug server');
    const url = new URL(debugUrl);
    const socket = await connectSoon(url.hostname, Number(url.port));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise<Buffer>((resolve, reject) => {
      socket.once('end', () => resolve(Buffer.concat(chunks)));
      socket.once('error', reject);
    });
    ended.catch(() => undefined);
    socket.write(`GET /debug/pprof/profile?seconds=${MAX_SECONDS} HTTP/1.0\r\nHost: ${url.host}\r\n\r\n`);
    return { socket, ended };
  })();
  // Kept for stop(): a failure must not surface as an unhandled rejection while the push runs.
  opened.catch(() => undefined);
  return {
    async stop(procCpuS) {
      let socket: Socket | undefined;
      try {
        const o = await opened;
        socket = o.socket;
        socket.end();
        let timer: NodeJS.Timeout | undefined;
        const answer = await Promise.race([
          o.ended,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('no profile 30 s after the push ended')), 30_000);
          }),
        ]).finally(() => clearTimeout(timer));
        const head = answer.indexOf('\r\n\r\n');
        const status = answer.subarray(0, Math.max(0, answer.indexOf('\r\n'))).toString('latin1');
        const body = head < 0 ? Buffer.alloc(0) : answer.subarray(head + 4);
        if (!/^HTTP\/1\.[01] 200 /.test(status)) throw new Error(`GET /debug/pprof/profile answered "${status}": ${body.toString('utf8').slice(0, 200).trim()}`);
        const p = decodePprof(body);
        await writeFile(join(dir, REGISTRY_PROFILE_FILE), `${JSON.stringify({ procCpuS, durationNs: p.durationNs, samples: mergeStacks(p.samples) })}\n`);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        log(`docker-registry CPU profile failed (the bench goes on without it): ${why}`);
        await writeFile(join(dir, REGISTRY_PROFILE_ERROR_FILE), `${why}\n`).catch(() => undefined);
      } finally {
        socket?.destroy();
      }
    },
  };
}

// ---- what the profile says ----

/** The categories of the RESULTS.md table, first match wins (stacks are read leaf first). */
const CATEGORIES: Array<{ label: string; test: (stack: readonly string[]) => boolean }> = [];
const any = (re: RegExp) => (stack: readonly string[]) => stack.some((f) => re.test(f));
/**
 * Routing is gorilla/mux's or distribution's route and URL-builder code nearer the leaf than any request
 * handler: every handler runs under mux's ServeHTTP, so a mux frame further up says nothing.
 */
const ROUTER = /gorilla\/mux\.|\/api\/v2\.(Router|RouterWithPrefix|NewURLBuilder\w*|\(\*URLBuilder\)\.\w+|clonedRoute\.\w+)$/;
const HANDLERS = /distribution\/registry\/handlers\./;
const routing = (stack: readonly string[]) => {
  const r = stack.findIndex((f) => ROUTER.test(f));
  const h = stack.findIndex((f) => HANDLERS.test(f) && !/\.\(\*App\)\.(context|ServeHTTP)$/.test(f));
  return r >= 0 && (h < 0 || r < h);
};
const handler = (name: string) => any(new RegExp(`\\.\\(\\*\\w+Handler\\)\\.${name}$`));
CATEGORIES.push(
  { label: 'Go GC and scheduler (mark, sweep, scavenge, assists; schedule, netpoll)', test: any(/^runtime\.(gcBgMarkWorker|gcAssistAlloc|bgsweep|bgscavenge|markroot|gcDrain|sweepone|schedule|findrunnable|findRunnable|netpoll|sysmon|mcall|park_m|gcStart|stopm|startm|wakep|notesleep|futexsleep)$/) },
  { label: 'sha256 of blob bytes', test: any(/^crypto\/sha256\./) },
  { label: 'fsync', test: any(/^os\.\(\*File\)\.Sync$|^syscall\.Fsync$|^internal\/poll\.\(\*FD\)\.Fsync$/) },
  {
    label: 'file metadata calls (mkdir, open, stat, rename, link, remove, readdir, close)',
    test: any(/^os\.(Mkdir|MkdirAll|Rename|Link|Symlink|Remove|RemoveAll|Stat|Lstat|Chmod|OpenFile|Open|Create|ReadDir|Readlink)$|^os\.\(\*File\)\.(Readdir|Readdirnames|ReadDir|Close|Stat)$/),
  },
  { label: 'file data reads/writes (blob and link bytes)', test: any(/^os\.\(\*File\)\.(Write|WriteString|Read|ReadAt|WriteAt|ReadFrom|Seek)$|^io\/ioutil\.ReadFile$|^os\.ReadFile$/) },
  { label: 'routing: route table and URL builder (gorilla/mux; rebuilt per request in 2.8)', test: routing },
  { label: 'handler: POST start upload / mount', test: handler('StartBlobUpload') },
  { label: 'handler: PUT blob (upload complete)', test: handler('PutBlobUploadComplete') },
  { label: 'handler: PATCH blob data', test: handler('PatchBlobData') },
  { label: 'handler: PUT manifest', test: handler('PutManifest') },
  { label: 'handler: GET/HEAD manifest', test: handler('GetManifest') },
  { label: 'handler: GET/HEAD blob', test: handler('GetBlob') },
  { label: 'other request work (dispatch, repository, auth, logging)', test: any(HANDLERS) },
  { label: 'net/http server and network I/O', test: any(/^net\/http\.|^net\.|^internal\/poll\.|^bufio\./) },
);
const OTHER = 'other (runtime, allocation outside a request)';

/** The request kind a sample was working for, whatever it was doing: the handler on its stack. */
const KINDS: Array<[string, RegExp]> = [
  ['POST start upload / mount', /\.StartBlobUpload$/],
  ['PUT blob (upload complete)', /\.PutBlobUploadComplete$/],
  ['PATCH blob data', /\.PatchBlobData$/],
  ['PUT manifest', /\.\(\*manifestHandler\)\.PutManifest$/],
  ['GET/HEAD manifest', /\.\(\*manifestHandler\)\.GetManifest$/],
  ['GET/HEAD blob', /\.\(\*blobHandler\)\.GetBlob$/],
];

export function requestKind(stack: readonly string[]): string {
  for (const [label, re] of KINDS) if (stack.some((f) => HANDLERS.test(f) && re.test(f))) return label;
  if (stack.some((f) => HANDLERS.test(f))) return 'any request, outside its handler (routing, dispatch, other requests)';
  if (stack.some((f) => /^net\/http\./.test(f))) return 'net/http server (reading requests, writing answers)';
  return 'no request (GC, scheduler, background)';
}

export interface RegistryProfileEntry {
  label: string;
  cpuS: number;
  share: number;
}

export interface RegistryProfileSummary {
  /** CPU seconds sampled. */
  cpuS: number;
  /** The registry's CPU over the same push as /proc counted it, seconds. */
  procCpuS?: number;
  /** Wall seconds covered. */
  wallS: number;
  categories: RegistryProfileEntry[];
  /** All CPU under each request kind's handler (its file system calls and GC assists included). */
  kinds: RegistryProfileEntry[];
  /** Self (leaf) CPU by function. */
  functions: RegistryProfileEntry[];
}

export function categorise(stack: readonly string[]): string {
  return CATEGORIES.find((c) => c.test(stack))?.label ?? OTHER;
}

export function summarisePprof(profile: PprofProfile & { procCpuS?: number }, limit = 12): RegistryProfileSummary {
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const byKind = new Map<string, number>();
  let total = 0;
  for (const s of profile.samples) {
    total += s.cpuNs;
    const c = categorise(s.stack);
    byCategory.set(c, (byCategory.get(c) ?? 0) + s.cpuNs);
    const k = requestKind(s.stack);
    byKind.set(k, (byKind.get(k) ?? 0) + s.cpuNs);
    const leaf = s.stack[0] ?? '?';
    byFunction.set(leaf, (byFunction.get(leaf) ?? 0) + s.cpuNs);
  }
  const entries = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).map(([label, ns]) => ({ label, cpuS: ns / 1e9, share: total > 0 ? ns / total : 0 }));
  return { ...(profile.procCpuS === undefined ? {} : { procCpuS: profile.procCpuS }), cpuS: total / 1e9, wallS: profile.durationNs / 1e9, categories: entries(byCategory), kinds: entries(byKind), functions: entries(byFunction).slice(0, limit) };
}

export interface FloorFigures {
  cores: number;
  /** Registry CPU of the timed first publishes (median, /proc), seconds. */
  registryCpuS?: number;
  /** tar | gzip -6 CPU (median), seconds. */
  compressionCpuS?: number;
}

/** The RESULTS.md lines for the registry profile in `dir` (undefined when the run did not take one). */
export async function registryProfileMarkdown(dir: string, where: string, floor: FloorFigures): Promise<string[] | undefined> {
  const errorFile = join(dir, REGISTRY_PROFILE_ERROR_FILE);
  if (existsSync(errorFile)) return [`The registry's CPU profile could not be taken: ${(await readFile(errorFile, 'utf8')).trim()}`];
  const file = join(dir, REGISTRY_PROFILE_FILE);
  if (!existsSync(file)) return undefined;
  let summary: RegistryProfileSummary;
  try {
    summary = summarisePprof(JSON.parse(await readFile(file, 'utf8')) as PprofProfile & { procCpuS?: number });
  } catch (err) {
    return [`The registry's CPU profile \`${where}/${REGISTRY_PROFILE_FILE}\` could not be read: ${err instanceof Error ? err.message : String(err)}`];
  }
  const pct = (e: RegistryProfileEntry) => `${(e.share * 100).toFixed(0)}%`;
  const row = (e: RegistryProfileEntry, code: boolean) => `| ${code ? `\`${e.label.replaceAll('|', '\\|')}\`` : e.label} | ${e.cpuS.toFixed(2)} s | ${pct(e)} |`;
  const lines = [
    `docker-registry sampled by Go's pprof through distribution's debug server (\`http.debug.addr\`, only in this profiling run) during the same push, one profile from its start to its end: ${summary.cpuS.toFixed(2)} CPU-s sampled in ${summary.wallS.toFixed(1)} s${summary.procCpuS === undefined ? '' : ` (/proc counted ${summary.procCpuS.toFixed(2)} CPU-s for the registry over the same push)`}. Profile: \`${where}\`. Categories are exclusive, first match in this order: GC/scheduler, sha256, file system calls, routing, the request's handler, net/http.`,
    '',
    '| registry CPU by category | CPU | share |',
    '| --- | ---: | ---: |',
    ...summary.categories.map((e) => row(e, false)),
    '',
    '| registry CPU by request kind (all of it under the handler, file system calls included) | CPU | share |',
    '| --- | ---: | ---: |',
    ...summary.kinds.map((e) => row(e, false)),
    '',
    '| registry top self-time functions | CPU | share |',
    '| --- | ---: | ---: |',
    ...summary.functions.map((e) => row(e, true)),
    '',
  ];
  if (floor.registryCpuS !== undefined && floor.compressionCpuS !== undefined && floor.compressionCpuS > 0) {
    const { cores, registryCpuS: reg, compressionCpuS: gz } = floor;
    const floorS = (reg + gz) / cores;
    const target = (2 * gz) / cores;
    lines.push(
      `Floor: the registry's ${reg.toFixed(1)} CPU-s (timed runs, /proc) + compressing the bytes once ${gz.toFixed(1)} CPU-s, over ${cores} cores = ${floorS.toFixed(2)} s even with perfect overlap and no packpub CPU at all, against the 2x target of ${target.toFixed(2)} s: ${floorS <= target ? `${(target - floorS).toFixed(2)} s left for everything packpub does besides compressing` : `${(floorS - target).toFixed(2)} s over it before packpub does anything else, so the target cannot be met against this registry`}.`,
    );
  }
  return lines;
}
