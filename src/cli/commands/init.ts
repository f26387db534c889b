import { relative, resolve } from 'node:path';
import type { InitOptions } from '../../operations/init.js';
import { PACK_LAYERS, type PackLayer } from '../../pack/model.js';
import type { CommandSpec } from '../context.js';
import { declareFlags, type OwnFlags } from '../target-flags.js';
import { EXIT_OK, printable, userPath, writeLine } from '../io.js';
import { PackpubError } from '../../errors.js';
import { sourceDateEpoch } from '../../util/source-date-epoch.js';
import { shellWord } from '../../util/shell-word.js';

const INIT_FLAGS: OwnFlags = {
  positionals: { dir: { type: 'string', describe: 'Folder to create (must be new or empty unless --force)' } },
  options: {
    name: { type: 'string', describe: 'Pack name (default with --from-chart: the chart name)' },
    version: { type: 'string', describe: 'Pack version, an OCI tag such as 1.0.0 (default with --from-chart: the chart version)' },
    'display-name': { type: 'string', describe: 'Name shown in Palette, one line (default: the name in title case)' },
    layer: { type: 'string', choices: [...PACK_LAYERS], default: 'addon', describe: 'Pack layer' },
    'addon-type': { type: 'string', describe: 'Add-on category, e.g. monitoring, security (default for add-ons: "system app")' },
    namespace: { type: 'string', describe: 'pack.namespace, a Kubernetes namespace name (default: the pack name)' },
    'from-chart': { type: 'string', describe: 'Build the pack from a Helm chart on disk: a .tgz or an unpacked chart folder (a chart of a repository or registry: helm pull it first)' },
    'chart-version-from': {
      type: 'string',
      choices: ['version', 'appVersion'],
      default: 'version',
      describe: 'Chart.yaml field the pack version defaults to (with --from-chart)',
    },
    force: { type: 'boolean', default: false, describe: 'Write into a non-empty folder, replacing files of the same names (the others stay, and push would pack them: a note names them)' },
  },
};

export const initCommand: CommandSpec = {
  command: 'init <dir>',
  describe: 'Create a new pack folder, optionally from a Helm chart (its images listed, so it passes validate --strict)',
  // yargs reserves --version for the program version; the pack version needs the flag here.
  builder: (y) => declareFlags(y.version(false), ['output'], INIT_FLAGS),
  run: async (args, ctx) => {
    const { initPack } = await import('../../operations/init.js');
    const cwd = ctx.io.cwd;
    const str = (key: string): string | undefined => (typeof args[key] === 'string' ? (args[key] as string) : undefined);
    // An unset CI variable leaves a value empty: `init "$DIR"` made the pack in the working directory (exit 0 when
    // it was empty), `--from-chart ""` read the working directory as the chart (exit 1, "no Chart.yaml"),
    // `--addon-type ""` took the default and `" "` was written as the category. Refused before anything is written.
    for (const [key, name] of [
      ['dir', 'the folder'],
      ['fromChart', '--from-chart'],
      ['addonType', '--addon-type'],
    ] as const) {
      if (str(key)?.trim() !== '') continue;
      throw new PackpubError('USAGE', `${name} is empty`, { hint: `give a value (an unset CI variable often leaves it empty)${key === 'dir' ? '' : `, or leave ${name} out`}` });
    }
    const options: InitOptions = {
      // userPath: `~/...` is the home folder's (the shell leaves a `~` after `=` alone: a folder named ~ was made).
      dir: resolve(cwd, userPath(ctx.io, args['dir'] as string)),
      layer: args['layer'] as PackLayer,
      chartVersionFrom: args['chartVersionFrom'] === 'appVersion' ? 'appVersion' : 'version',
      force: args['force'] === true,
    };
    const fromChart = str('fromChart');
    // Helm takes a chart's URL (`helm install x https://.../c.tgz`, `oci://...`); init reads a chart on disk, and said
    // "chart <cwd>/https:/example.com/c.tgz does not exist", a path the user never typed.
    if (fromChart !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(fromChart) && (await (await import('node:fs/promises')).stat(resolve(cwd, fromChart)).catch(() => undefined)) === undefined) {
      throw new PackpubError('USAGE', `--from-chart takes a chart on disk, not a URL: ${fromChart}`, {
        hint: 'download it first (helm pull <url>, or helm pull oci://<registry>/<chart> --version <v>), then --from-chart ./<chart>-<version>.tgz',
      });
    }
    if (fromChart !== undefined) options.fromChart = resolve(cwd, userPath(ctx.io, fromChart));
    for (const [flag, key] of [
      ['name', 'name'],
      ['version', 'version'],
      ['displayName', 'displayName'],
      ['addonType', 'addonType'],
      ['namespace', 'namespace'],
    ] as const) {
      const value = str(flag);
      if (value !== undefined) options[key] = value;
    }
    // The entry times of a chart packed from a folder: as push and build read it (a malformed value refused
    // before anything is written, not ignored). A plain init packs nothing.
    const epoch = fromChart === undefined ? undefined : sourceDateEpoch(ctx.io.env);
    if (epoch !== undefined) options.sourceDateEpoch = epoch;

    const result = await initPack(options);
    const out = ctx.io.stdout;
    if (args['json'] === true) {
      writeLine(out, JSON.stringify(result, null, 2));
      return EXIT_OK;
    }
    const shown = relative(cwd, result.dir) || '.';
    // The folder and what the chart holds (its name, subcharts, image values) as printable() shows a registry's text: a
    // line break and "::error::..." in one printed a line the GitHub runner took as a workflow command.
    const say = (stream: typeof out, text: string): void => writeLine(stream, printable(text));
    say(out, `created pack ${result.name}:${result.version} in ${shown}`);
    for (const file of result.files) say(out, `  ${file}`);
    if (result.chart !== undefined) {
      const c = result.chart;
      say(out, `chart ${c.name}${c.version === undefined ? '' : ` ${c.version}`} ${c.packed ? 'packed into' : 'copied to'} ${c.archive}; its default values are under charts.${c.name} in values.yaml`);
      if (c.subcharts.length > 0) say(out, `  subcharts: ${c.subcharts.join(', ')}`);
      say(out, `images listed in pack.content.images: ${result.images.length}`);
    }
    const err = ctx.io.stderr;
    if (result.review.length > 0) {
      say(err, `review these images in values.yaml (pack.content.images):`);
      for (const i of result.review) say(err, `  ${i.image} (from ${i.path}): ${i.review ?? ''}`);
    }
    for (const note of result.notes) say(err, `note: ${note}`);
    const listImages = result.images.length === 0 && result.layer !== 'os' && result.layer !== 'k8s' ? 'list the images in values.yaml (pack.content.images), then ' : '';
    say(out, `next: ${listImages}packpub validate ${shellWord(shown)} --strict, then packpub push ${shellWord(shown)}`);
    return EXIT_OK;
  },
};
