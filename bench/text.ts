import type { Prng } from '../test/support/prng.js';

/*
 * Text that compresses like real pack content: Kubernetes YAML built from a technical vocabulary with
 * random names, numbers and digests mixed in, so gzip -6 lands near the 4-8x it gets on real manifests
 * (a repeated string would compress 100x and flatter every publisher).
 */

const WORDS = (
  'cluster node pod container image volume mount secret config service ingress gateway route policy ' +
  'namespace label selector annotation replica deployment daemonset statefulset job cron schedule ' +
  'resource request limit memory cpu storage class claim persistent ephemeral network port protocol ' +
  'endpoint address host path prefix timeout retry backoff interval threshold probe liveness readiness ' +
  'startup handler command argument environment variable value default override template render chart ' +
  'release upgrade rollback history revision status condition reason message phase ready available ' +
  'progressing degraded healthy metrics scrape exporter collector agent sidecar operator controller ' +
  'webhook admission mutating validating certificate issuer authority token account role binding rule ' +
  'verb group version kind schema field property required optional enum pattern format integer string ' +
  'boolean object array items minimum maximum description example deprecated preserve unknown fields ' +
  'tolerations affinity topology spread constraint priority preemption eviction disruption budget ' +
  'autoscaler horizontal vertical target utilization average window stabilization scale up down ' +
  'log level debug info warn error trace output json text rotate retention compress archive bucket ' +
  'region zone replica shard partition leader election lease lock quorum snapshot backup restore ' +
  'encryption key rotation audit compliance benchmark scan vulnerability report severity critical ' +
  'when the this that with from into over under across between each every only also then else ' +
  'must should may can will would enable disable allow deny set unset use ignore keep remove add'
).split(' ');

const KINDS = ['Deployment', 'Service', 'ConfigMap', 'ServiceAccount', 'ClusterRole', 'DaemonSet', 'StatefulSet'];

export function words(rng: Prng, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(rng.pick(WORDS));
  return out.join(' ');
}

export function sentence(rng: Prng, min = 6, max = 18): string {
  const s = words(rng, rng.int(min, max));
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;
}

function ident(rng: Prng): string {
  return `${rng.pick(WORDS)}-${rng.pick(WORDS)}`;
}

function camel(rng: Prng): string {
  const a = rng.pick(WORDS);
  const b = rng.pick(WORDS);
  return `${a}${b.charAt(0).toUpperCase()}${b.slice(1)}`;
}

/** A random scalar in YAML syntax, quoted where YAML would otherwise read it as something else. */
function scalar(rng: Prng): string {
  switch (rng.int(0, 6)) {
    case 0:
      return String(rng.int(0, 65535));
    case 1:
      return rng.pick(['true', 'false']);
    case 2:
      return `"${rng.int(1, 9)}.${rng.int(0, 30)}.${rng.int(0, 20)}"`;
    case 3:
      return `ghcr.io/${ident(rng)}/${rng.pick(WORDS)}@sha256:${rng.hex(64)}`;
    case 4:
      return `"${sentence(rng, 3, 10)}"`;
    default:
      return ident(rng);
  }
}

/** One Kubernetes object as YAML (2-space indentation, no tabs: pack-central's rules). */
export function k8sObject(rng: Prng, app: string, kind = rng.pick(KINDS)): string {
  const name = `${app}-${ident(rng)}`;
  const lines = [
    `apiVersion: ${kind === 'Service' || kind === 'ConfigMap' || kind === 'ServiceAccount' ? 'v1' : kind === 'ClusterRole' ? 'rbac.authorization.k8s.io/v1' : 'apps/v1'}`,
    `kind: ${kind}`,
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${app}`,
    '  labels:',
    `    app.kubernetes.io/name: ${app}`,
    `    app.kubernetes.io/component: ${rng.pick(WORDS)}`,
    `    app.kubernetes.io/version: "${rng.int(0, 9)}.${rng.int(0, 40)}.${rng.int(0, 20)}"`,
    '  annotations:',
    `    description: "${sentence(rng)}"`,
  ];
  if (kind === 'ConfigMap') {
    lines.push('data:');
    const n = rng.int(4, 16);
    for (let i = 0; i < n; i++) lines.push(`  ${camel(rng)}${i}: ${scalar(rng)}`);
  } else if (kind === 'Service') {
    lines.push('spec:', '  type: ClusterIP', '  selector:', `    app.kubernetes.io/name: ${app}`, '  ports:');
    const n = rng.int(1, 4);
    for (let i = 0; i < n; i++) {
      lines.push(`    - name: ${rng.pick(WORDS)}-${i}`, `      port: ${rng.int(80, 9999)}`, `      targetPort: ${rng.int(1024, 65535)}`, '      protocol: TCP');
    }
  } else if (kind === 'ClusterRole') {
    lines.push('rules:');
    const n = rng.int(2, 8);
    for (let i = 0; i < n; i++) {
      lines.push(`  - apiGroups: ["${rng.pick(WORDS)}.example.io"]`, `    resources: ["${rng.pick(WORDS)}s", "${rng.pick(WORDS)}s"]`, '    verbs: ["get", "list", "watch"]');
    }
  } else if (kind === 'ServiceAccount') {
    lines.push('automountServiceAccountToken: false');
  } else {
    lines.push(
      'spec:',
      `  replicas: ${rng.int(1, 5)}`,
      '  selector:',
      '    matchLabels:',
      `      app.kubernetes.io/name: ${app}`,
      '  template:',
      '    metadata:',
      '      labels:',
      `        app.kubernetes.io/name: ${app}`,
      '    spec:',
      '      containers:',
    );
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) {
      lines.push(
        `        - name: ${ident(rng)}`,
        `          image: ghcr.io/${ident(rng)}/${rng.pick(WORDS)}:${rng.int(0, 9)}.${rng.int(0, 30)}.${rng.int(0, 20)}`,
        '          args:',
        `            - --${rng.pick(WORDS)}-${rng.pick(WORDS)}=${rng.int(1, 1000)}`,
        `            - --${rng.pick(WORDS)}=${rng.pick(WORDS)}`,
        '          env:',
      );
      const envs = rng.int(2, 8);
      for (let e = 0; e < envs; e++) lines.push(`            - name: ${rng.pick(WORDS).toUpperCase()}_${rng.pick(WORDS).toUpperCase()}`, `              value: "${rng.pick(WORDS)}-${rng.int(0, 99999)}"`);
      lines.push(
        '          resources:',
        '            requests:',
        `              cpu: ${rng.int(10, 900)}m`,
        `              memory: ${rng.int(16, 2048)}Mi`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A CRD with a long OpenAPI schema: the bulk of real multi-megabyte manifests. Real schemas repeat whole
 * property blocks (the same core types embedded again and again): with probability `repeat` a property
 * reuses an earlier block of this CRD under a new name, which is what brings gzip to the ~11x it gets on
 * pack-central's CRDs.
 */
export function crd(rng: Prng, app: string, approxBytes: number, repeat = 0): string {
  const plural = `${rng.pick(WORDS)}${rng.pick(WORDS)}s`;
  const lines = [
    'apiVersion: apiextensions.k8s.io/v1',
    'kind: CustomResourceDefinition',
    'metadata:',
    `  name: ${plural}.${app}.example.io`,
    'spec:',
    `  group: ${app}.example.io`,
    '  names:',
    `    kind: ${camel(rng)}`,
    `    plural: ${plural}`,
    '  scope: Namespaced',
    '  versions:',
    '    - name: v1',
    '      served: true',
    '      storage: true',
    '      schema:',
    '        openAPIV3Schema:',
    '          type: object',
    '          properties:',
  ];
  let size = lines.join('\n').length;
  let n = 0;
  const pool: string[] = [];
  while (size < approxBytes) {
    let body: string;
    if (pool.length > 0 && rng.float() < repeat) {
      body = rng.pick(pool);
    } else {
      const field = [`              description: ${sentence(rng, 8, 30)}`, `              type: ${rng.pick(['string', 'integer', 'boolean', 'object', 'array'])}`];
      if (rng.int(0, 2) === 0) field.push(`              default: ${scalar(rng)}`);
      body = field.join('\n');
      if (pool.length < 64) pool.push(body);
    }
    const text = `            ${camel(rng)}${n++}:\n${body}`;
    lines.push(text);
    size += text.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** Multi-document YAML of about `approxBytes`; `repeat` as for crd(). */
export function manifestYaml(rng: Prng, app: string, approxBytes: number, repeat = 0): string {
  const docs: string[] = [];
  let size = 0;
  while (size < approxBytes) {
    const reuse = repeat > 0 && docs.length > 0 && rng.float() < repeat * 0.7;
    const doc = reuse ? rng.pick(docs) : rng.int(0, 9) === 0 && approxBytes - size > 20_000 ? crd(rng, app, rng.int(8_000, 40_000), repeat) : k8sObject(rng, app);
    docs.push(doc);
    size += doc.length + 4;
  }
  return docs.join('---\n');
}

/**
 * A line source that, with probability `p`, repeats one of its earlier lines: real files repeat themselves
 * (pack-central's text compresses 4-11x with gzip -6), random words alone compress only about 3x.
 */
export function repeating(rng: Prng, p: number, line: () => string): () => string {
  const pool: string[] = [];
  return () => {
    if (pool.length > 0 && rng.float() < p) return rng.pick(pool);
    const l = line();
    if (pool.length < 256) pool.push(l);
    else pool[rng.int(0, 255)] = l;
    return l;
  };
}

/** Lines from `line()` until the text holds about `bytes` (nothing for 0). */
export function linesOfSize(bytes: number, line: () => string): string {
  const out: string[] = [];
  let size = 0;
  while (size < bytes) {
    const l = line();
    out.push(l);
    size += l.length + 1;
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** A nested values tree in YAML, 2-space indented, returned as lines at the given indentation. */
export function valuesLines(rng: Prng, indent: number, depth: number, keys: number, used = new Set<string>()): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (let i = 0; i < keys; i++) {
    let key = camel(rng);
    while (used.has(key)) key = `${camel(rng)}${i}`;
    used.add(key);
    if (depth > 0 && rng.int(0, 2) === 0) {
      out.push(`${pad}${key}:`);
      out.push(...valuesLines(rng, indent + 2, depth - 1, rng.int(2, 6)));
    } else {
      if (rng.int(0, 3) === 0) out.push(`${pad}# ${sentence(rng, 4, 12)}`);
      out.push(`${pad}${key}: ${scalar(rng)}`);
    }
  }
  return out;
}

export function markdown(rng: Prng, title: string, paragraphs: number): string {
  const parts = [`# ${title}`, ''];
  for (let i = 0; i < paragraphs; i++) {
    if (i % 3 === 1) parts.push(`## ${sentence(rng, 2, 5).slice(0, -1)}`, '');
    const p: string[] = [];
    const n = rng.int(2, 6);
    for (let s = 0; s < n; s++) p.push(sentence(rng));
    parts.push(p.join(' '), '');
  }
  return parts.join('\n');
}

/**
 * A values tree of about `bytes` at this indentation, as lines (top-level keys unique). With probability
 * `repeat` a top-level key takes the body of an earlier one, as real values files repeat blocks.
 */
export function valuesOfSize(rng: Prng, indent: number, bytes: number, repeat = 0): string[] {
  const used = new Set<string>();
  const out: string[] = [];
  const pad = ' '.repeat(indent);
  const bodies: string[][] = [];
  let size = 0;
  while (size < bytes) {
    let lines: string[];
    if (bodies.length > 0 && rng.float() < repeat) {
      let key = camel(rng);
      for (let i = 0; used.has(key); i++) key = `${camel(rng)}${i}`;
      used.add(key);
      const body = rng.pick(bodies);
      lines = body.length === 1 ? [`${pad}${key}: ${body[0] ?? ''}`] : [`${pad}${key}:`, ...body];
    } else {
      lines = valuesLines(rng, indent, 2, 1, used);
      const last = lines[lines.length - 1] ?? '';
      if (lines.length > 1 && !lines[0]?.startsWith(`${pad}#`)) bodies.push(lines.slice(1));
      else if (!last.startsWith(`${pad}#`) && last.includes(': ')) bodies.push([last.slice(last.indexOf(': ') + 2)]);
    }
    out.push(...lines);
    size += lines.reduce((s, l) => s + l.length + 1, 0);
  }
  return out;
}

/** Markdown of about `bytes`. */
export function markdownOfSize(rng: Prng, title: string, bytes: number, repeat = 0): string {
  const next = repeating(rng, repeat, () => sentence(rng));
  const parts = [`# ${title}`, ''];
  let size = title.length + 3;
  for (let i = 0; size < bytes; i++) {
    if (i % 3 === 1) parts.push(`## ${sentence(rng, 2, 5).slice(0, -1)}`, '');
    const p: string[] = [];
    const n = rng.int(2, 6);
    for (let s = 0; s < n; s++) p.push(next());
    const text = p.join(' ');
    parts.push(text, '');
    size += text.length + 2;
  }
  return parts.join('\n');
}
