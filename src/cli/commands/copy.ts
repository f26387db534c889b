import type { Argv } from 'yargs';
import { declareCopyFlags, numberFlag } from '../target-flags.js';
import type { CommandSpec } from '../context.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function copyFlags(y: Argv<any>): Argv<any> {
  return declareCopyFlags(
    y
      .positional('ref', { type: 'string', describe: '<name>:<version>, or <name> with --all; leave out with --all to copy every pack' })
      .option('from', {
        type: 'string',
        demandOption: true,
        describe: 'Source: HOST[:PORT]/BASE-PATH, oci:DIR for an OCI layout, or a target named in packpub.yaml',
      })
      .option('to', {
        type: 'string',
        demandOption: true,
        describe: 'Destination: HOST[:PORT]/BASE-PATH, oci:DIR for an OCI layout, or a target named in packpub.yaml',
      })
      .option('all', { type: 'boolean', default: false, describe: 'Every version of <name>, or without a name every pack under the source base path' })
      .option('force', { type: 'boolean', describe: 'Replace a version that holds a different manifest (Palette caches digests: avoid)' })
      .option('skip-existing', { type: 'boolean', describe: 'Keep a version that holds a different manifest and report it as skipped' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Print the plan (new / unchanged / conflict, bytes to copy); write nothing' })
      .option('fail-fast', { type: 'boolean', default: false, describe: 'Stop starting new versions after the first failure' })
      .option('concurrency', numberFlag('Versions copied at once, 1 to 64 (default: four per core, 4 to 16)')),
  )
    .example('$0 copy hello-universe:1.2.0 --from staging.example.com/packs --to prod.example.com/packs', 'Promote one version')
    .example('$0 copy --all --from staging --to prod', 'Every pack, between two targets named in packpub.yaml')
    .example('$0 copy hello-universe --all --from oci:./oci-packs --to harbor.example.com/spectro-oci-registry', 'Every version, from a local layout');
}

export const copyCommand: CommandSpec = {
  command: 'copy [ref]',
  describe: 'Promote published packs between registries (or OCI layouts) by digest, without rebuilding',
  builder: copyFlags,
  run: async (args, ctx) => (await import('../copy-run.js')).runCopy(args, ctx),
};
