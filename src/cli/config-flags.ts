import type { Argv } from 'yargs';

const CONFIG_GROUP = 'Configuration:';

/** `--config`, for commands that read packpub.yaml. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function configFileFlag(y: Argv<any>): Argv<any> {
  return y.option('config', {
    type: 'string',
    group: CONFIG_GROUP,
    describe: 'Configuration file (env PACKPUB_CONFIG; default: packpub.yaml in the working directory, if present)',
  });
}

/** `--config` and `--target`, for commands that publish to configured targets (push). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function configFlags(y: Argv<any>): Argv<any> {
  return configFileFlag(y).option('target', {
    alias: 't',
    type: 'string',
    array: true,
    group: CONFIG_GROUP,
    describe: 'Named target from the configuration file (repeatable, or comma-separated); default: defaults.target',
  });
}
