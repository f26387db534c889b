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
