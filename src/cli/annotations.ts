import { readNamedFile } from '../util/fs.js';
import { resolve } from 'node:path';
import { PackpubError, errorMessage } from '../errors.js';
import { userPath, type CliIo } from './io.js';
import { refuseDashPath } from './target-flags.js';

/*
 * Manifest annotations as ORAS 1.0 takes them: `--annotation KEY=VALUE` (repeatable) and
 * `--annotation-file FILE`, a JSON object whose "$manifest" key holds the manifest's annotations
 * (ORAS also allows "$config" and file names for layers; a pack has one layer whose title packpub sets,
 * so only "$manifest" is taken). A key given twice is an error, as in ORAS.
 */

const MANIFEST_KEY = '$manifest';

/**
 * `at`: the run's folder and environment (`~/...` is the home folder's, as for the other path flags: the shell
 * leaves a `~` after `=` alone); a folder alone reads `~` as a folder of that name.
 */
export async function parseAnnotations(flags: unknown, file: unknown, at: string | Pick<CliIo, 'cwd' | 'env'>): Promise<Record<string, string> | undefined> {
  const values = flags === undefined ? [] : (Array.isArray(flags) ? flags : [flags]).map(String);
  if (values.length === 0 && file === undefined) return undefined;
  // `--annotation-file "$FILE"` with the variable unset read the working directory ("cannot be read as JSON: EISDIR",
  // with a hint about the file's format): said as the other empty flags are.
  if (file !== undefined && String(file).trim() === '') {
    throw new PackpubError('USAGE', '--annotation-file is empty', { hint: 'give a value (an unset CI variable often leaves it empty), or leave --annotation-file out' });
  }
  refuseDashPath('annotation-file', file);
  const out: Record<string, string> = {};
  const add = (key: string, value: string, from: string) => {
    if (Object.hasOwn(out, key)) throw new PackpubError('USAGE', `annotation ${key} is given twice (${from})`, { hint: 'give each annotation key once' });
    out[key] = value;
  };
  if (file !== undefined) {
    const path = typeof at === 'string' ? resolve(at, String(file)) : resolve(at.cwd, userPath(at, String(file)));
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readNamedFile(path));
    } catch (err) {
      throw new PackpubError('USAGE', `--annotation-file ${String(file)} cannot be read as JSON: ${errorMessage(err)}`, {
        hint: 'write {"$manifest": {"org.opencontainers.image.source": "https://..."}}',
      });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new PackpubError('USAGE', `--annotation-file ${String(file)} must hold a JSON object`, { hint: 'write {"$manifest": {"KEY": "VALUE"}}' });
    }
    for (const [section, map] of Object.entries(parsed)) {
      if (section !== MANIFEST_KEY) {
        throw new PackpubError('USAGE', `--annotation-file ${String(file)}: "${section}" is not supported; packpub annotates the manifest only ("$manifest")`, {
          hint: 'move these annotations under "$manifest"',
        });
      }
      if (typeof map !== 'object' || map === null || Array.isArray(map)) {
        throw new PackpubError('USAGE', `--annotation-file ${String(file)}: "$manifest" must be an object of strings`);
      }
      for (const [key, value] of Object.entries(map)) {
        if (typeof value !== 'string') throw new PackpubError('USAGE', `--annotation-file ${String(file)}: the value of "${key}" must be a string`);
        add(key, value, '--annotation-file');
      }
    }
  }
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new PackpubError('USAGE', `--annotation "${v}" is not KEY=VALUE`, { hint: 'e.g. --annotation org.opencontainers.image.source=https://github.com/org/packs' });
    // `-a org.opencontainers.image.revision=$GITHUB_SHA` where the variable is unset (GitLab's is CI_COMMIT_SHA): the
    // version was published with an empty revision, exit 0, and a later run with the value finds it unchanged.
    if (v.slice(eq + 1).trim() === '') {
      throw new PackpubError('USAGE', `--annotation "${v}" has an empty value`, { hint: 'give the value (an unset CI variable often leaves it empty), or leave the annotation out' });
    }
    add(v.slice(0, eq), v.slice(eq + 1), '--annotation');
  }
  return out;
}
