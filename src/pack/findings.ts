/** One problem found in a pack, located precisely enough for the author to fix it. */
export interface Finding {
  /** `info` reports what could not be checked (an image registry that was unreachable or gated): never fails a run, not even with --strict. */
  severity: 'error' | 'warning' | 'info';
  /** Stable rule id, e.g. `pack-json-syntax`, `logo-not-png`, `values-nesting`. */
  rule: string;
  /** File relative to the pack folder, e.g. `pack.json`, `values.yaml`, `charts/x-1.0.0.tgz`. */
  file: string;
  /** JSON/YAML path, e.g. `constraints.dependencies[0].layer`. */
  path?: string;
  line?: number;
  column?: number;
  /** What is wrong and how to fix it. */
  message: string;
}
