import { homedir } from 'node:os';
import { join } from 'node:path';
import { PackpubError } from '../errors.js';

/**
 * The system's record of this user's home folder, or undefined when it has none: a container run as a user its
 * image does not know (`docker run --user 1001`, a CI agent's uid) with HOME unset, where Node's homedir() throws
 * (every command ended with its stack trace).
 */
export function systemHome(): string | undefined {
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}

/** Why there is no home folder, for the errors of what needs one. */
export function noHomeReason(): string {
  return `HOME is not set, and this user (uid ${process.getuid?.() ?? '?'}) has no home folder in the system's records`;
}

/** The user's home folder: HOME, else USERPROFILE, else the system's record. Set but empty is no home. */
export function homeFolder(env: NodeJS.ProcessEnv): string {
  const home = env['HOME'] || env['USERPROFILE'] || systemHome();
  if (home === undefined) throw new PackpubError('USAGE', `~ names no folder: ${noHomeReason()}`, { hint: 'set HOME, or give the path without ~' });
  return home;
}

/**
 * `~` or `~/...` read against the home folder (homeFolder), as a shell would have read it; undefined for any other
 * path (`~user/...` included). The shell leaves a `~` after `=` alone (`--oci-layout=~/out`), and packpub.yaml's
 * paths are never seen by a shell.
 */
export function homePath(path: string, env: NodeJS.ProcessEnv): string | undefined {
  return path === '~' || path.startsWith('~/') ? join(homeFolder(env), path.slice(1)) : undefined;
}
