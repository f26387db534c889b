import { readlinkSync } from 'node:fs';

/**
 * Whether no process `pid` runs on this host (ESRCH). One of another user (EPERM) runs, and any other answer is
 * taken as running: what a dead run left (a lock, a temp file, a work folder) is removed only when it is certain.
 */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

let namespace: string | null | undefined;
/**
 * This process's PID namespace, as the inode number of /proc/self/ns/pid (Linux); null where there is none to read.
 * A pid means something only in its namespace: containers sharing a folder (a bind mount) each have their own.
 */
export function pidNamespace(): string | null {
  if (namespace === undefined) {
    try {
      namespace = /^pid:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? null;
    } catch {
      namespace = null;
    }
  }
  return namespace;
}
