import { homedir } from 'node:os';
import { join } from 'node:path';

/** The user's home folder: HOME, else USERPROFILE, else the system's record. Set but empty is no home. */
export function homeFolder(env: NodeJS.ProcessEnv): string {
  return env['HOME'] || env['USERPROFILE'] || homedir();
}

/**
 * `~` or `~/...` read against the home folder (homeFolder), as a shell would have read it; undefined for any other
 * path (`~user/...` included). The shell leaves a `~` after `=` alone (`--oci-layout=~/out`), and packpub.yaml's
 * paths are never seen by a shell.
 */
export function homePath(path: string, env: NodeJS.ProcessEnv): string | undefined {
  return path === '~' || path.startsWith('~/') ? join(homeFolder(env), path.slice(1)) : undefined;
}
