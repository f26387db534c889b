import type { Argv } from 'yargs';
import { PackpubError } from '../errors.js';
import { DEFAULT_PALETTE_POLL_MS, DEFAULT_PALETTE_TIMEOUT_MS, PALETTE_ENV } from '../palette/endpoint.js';
import type { Args } from './context.js';
import { declareOwnFlags, numberFlag, type OwnFlags } from './target-flags.js';

/*
 * The Palette flags, declared apart from what reads them (palette-options.ts): every push declares them for its
 * --help and its checks, and only a push with --palette-sync, or a palette command, loads the Palette code.
 */

/** The --help group of every flag that concerns Palette (push --palette-sync and palette's own too). */
export const PALETTE_GROUP = 'Palette:';

/** Flags that reach Palette's API; shared by `palette doctor|register|sync` and `push --palette-sync`. */
const PALETTE_FLAGS: OwnFlags = {
  group: PALETTE_GROUP,
  options: {
    'palette-endpoint': {
      type: 'string',
      describe: `Palette API host or URL (default: palette.endpoint of the target, else env ${PALETTE_ENV.host}, else the SaaS API)`,
    },
    'palette-api-key-stdin': {
      type: 'boolean',
      default: false,
      describe: `Read the Palette API key from standard input (default: the variable palette.apiKeyEnv of the target names, else env ${PALETTE_ENV.apiKey}). The key goes to the Palette endpoint only, and is all that push --palette-sync and palette sync send Palette: the registry's credentials (-u, --password-stdin, packpub login, the Docker config, AWS) are never sent to Palette; palette register and doctor send it only the registry credential given for Palette (see palette --help)`,
    },
    'palette-project': {
      type: 'string',
      describe: `Project uid for pack reads (default: palette.project of the target, else env ${PALETTE_ENV.project}); registries are always read at tenant scope. A project that cannot show the registry's packs ends push --palette-sync before publishing and palette sync before its sync (exit 2) when Palette's pack reads can tell or Palette knows no project of that uid, else after the sync (exit 3); palette doctor makes the same check (palette-project); palette register takes none`,
    },
    'palette-registry': {
      type: 'string',
      describe: 'Name or uid of the Palette registry serving the target (default: the one Pack registry with its host and base path); one target only: with several, palette.registry per target',
    },
    'palette-timeout': numberFlag(`sync: seconds to wait for the sync and for every pack to be visible, a values.yaml read back from the registry included (default ${DEFAULT_PALETTE_TIMEOUT_MS / 1000}; at most 86400); until then, a Palette call not answered through its retries is asked again at the next poll`),
    'palette-poll-interval': numberFlag(`sync: seconds between status polls (default ${DEFAULT_PALETTE_POLL_MS / 1000}, as Terraform's provider; at most 3600)`),
    'palette-ca-file': { type: 'string', describe: 'PEM CA of a self-hosted Palette' },
  },
};

/** Declare the Palette flags (PALETTE_FLAGS) on a command. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function paletteFlags(y: Argv<any>): Argv<any> {
  return declareOwnFlags(y, PALETTE_FLAGS);
}

/** The Palette flags `push` reads only with --palette-sync (yargs keys, and the flag as typed). */
const PUSH_PALETTE_FLAGS: [string, string][] = [
  ['paletteEndpoint', '--palette-endpoint'],
  ['paletteApiKeyStdin', '--palette-api-key-stdin'],
  ['paletteProject', '--palette-project'],
  ['paletteRegistry', '--palette-registry'],
  ['paletteTimeout', '--palette-timeout'],
  ['palettePollInterval', '--palette-poll-interval'],
  ['paletteCaFile', '--palette-ca-file'],
];

/**
 * `push` with a Palette flag but without --palette-sync would publish and never reach Palette: a run that
 * silently does less than the command line says. Refused before anything is published.
 */
export function refusePaletteFlagsWithoutSync(args: Args): void {
  if (args['paletteSync'] === true) return;
  const given = PUSH_PALETTE_FLAGS.filter(([key]) => args[key] !== undefined && args[key] !== false).map(([, flag]) => flag);
  if (given.length === 0) return;
  throw new PackpubError('USAGE', `${given.join(', ')} ${given.length === 1 ? 'applies' : 'apply'} only with --palette-sync, which is not given: Palette would not be synced`, {
    hint: 'add --palette-sync to sync Palette after publishing, or drop the Palette flags',
  });
}
