/** One problem found in a pack, located precisely enough for the author to fix it. */
export interface Finding {
  /** `info` reports what could not be checked (an image registry that was unreachable or gated): never fails a run, not even with --strict. */
  severity: 'error' | 'warning' | 'info';
  /** Stable rule id, e.g. `pack-json-syntax`, `logo-not-png`, `deep-values-nesting`. */
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

/**
 * Rule id of what push's archive walk (archive/walk.ts) refuses anywhere in the pack folder: a symlink
 * leaving the pack, a dangling symlink or loop, a fifo, socket or device, a folder that cannot be read, a
 * name that is not UTF-8 or holds a backslash, nesting or paths beyond the walk's limits.
 */
export const FILE_NOT_ARCHIVABLE = 'file-not-archivable';

/** The finding for a refusal of the archive walk: its message (push's error) and its fix. */
export function notArchivableFinding(path: string, message: string, hint: string | undefined): Finding {
  return {
    severity: 'error',
    rule: FILE_NOT_ARCHIVABLE,
    file: path === '' ? '.' : path,
    message: `${message}, so push refuses the pack${hint === undefined ? '' : `; ${hint}`}`,
  };
}
