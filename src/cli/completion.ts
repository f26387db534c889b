import type { CommandSpec } from './context.js';

/*
 * `packpub completion bash|zsh|fish`: a shell completion script for commands and their flags, made from
 * the same command table the parser uses, so it cannot drift from the CLI.
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionCommand {
  name: string;
  describe: string;
  /** Long flags (without `--`), aliases included; booleans also as `no-<flag>` when they default to true. */
  flags: string[];
  /** Flags that take no value. */
  booleans: string[];
  /** One-letter aliases (without `-`). */
  short: string[];
  /** The values the first positional takes, when it has a fixed set (`palette <action>`, `completion <shell>`). */
  positional: string[];
  /** Flags with a fixed set of values (`--registry-type`, `--layer`): flag (without `--`) -> values. */
  values: Record<string, string[]>;
}

/** The flags a command accepts, read from its yargs builder. */
export async function describeCommands(specs: CommandSpec[]): Promise<CompletionCommand[]> {
  const { default: yargs } = await import('yargs');
  return specs.map((spec) => {
    const parser = spec.builder(yargs([])) as unknown as {
      getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]>; boolean: string[]; default: Record<string, unknown>; choices: Record<string, unknown[]> };
    };
    const o = parser.getOptions();
    const names = new Set<string>(['help', 'debug', 'no-tty']);
    const short = new Set<string>();
    for (const key of Object.keys(o.key)) if (key.length > 1 && !key.includes('_') && !/[A-Z]/.test(key)) names.add(key);
    for (const aliases of Object.values(o.alias)) for (const a of aliases) (a.length === 1 ? short : names).add(a);
    for (const b of o.boolean) if (o.default[b] === true) names.add(`no-${b}`);
    const booleans = new Set(['help', 'debug', 'no-tty', ...o.boolean, ...o.boolean.map((b) => `no-${b}`)]);
    const command = Array.isArray(spec.command) ? (spec.command[0] ?? '') : spec.command;
    // Positionals (`<ref>`, `[packs...]`) are registered like options, but are no flags.
    const positionals = [...command.matchAll(/[<[]([\w-]+)(?:\.\.\.)?[>\]]/g)].map((m) => m[1] ?? '');
    for (const p of positionals) names.delete(p);
    const choices = (key: string): string[] => (o.choices?.[key] ?? []).map(String);
    const flags = [...names].filter((n) => !/^\$0|^_$/.test(n)).sort();
    return {
      name: command.split(' ')[0] ?? command,
      describe: spec.describe,
      flags,
      booleans: [...names].filter((n) => booleans.has(n)).sort(),
      short: [...short].sort(),
      positional: positionals[0] === undefined ? [] : choices(positionals[0]),
      values: Object.fromEntries(flags.filter((f) => choices(f).length > 0).map((f) => [f, choices(f)])),
    };
  });
}

/** Global flags, before a command. */
const GLOBAL_FLAGS = ['--debug', '--help', '--no-tty', '--version'];

function bash(commands: CompletionCommand[]): string {
  const cases = commands
    .map((c) => {
      const positional = c.positional.length === 0 ? '' : ` positional="${c.positional.join(' ')}"`;
      return `    ${c.name}) flags="${[...c.flags.map((f) => `--${f}`), ...c.short.map((s) => `-${s}`)].join(' ')}"${positional} ;;`;
    })
    .join('\n');
  // After a flag with a fixed set of values (`--registry-type <TAB>`), those values.
  const valueCases = commands
    .flatMap((c) => Object.entries(c.values).map(([flag, values]) => `    "${c.name} --${flag}") COMPREPLY=($(compgen -W "${values.join(' ')}" -- "$cur")); return 0 ;;`))
    .join('\n');
  return `# packpub completion for bash. Load it with: source <(packpub completion bash)
_packpub() {
  local cur prev cmd at i n flags positional
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; at=$i; break ;;
    esac
  done
  if [ -z "$cmd" ]; then
    if [[ "$cur" == -* ]]; then
      COMPREPLY=($(compgen -W "${GLOBAL_FLAGS.join(' ')}" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')}" -- "$cur"))
    fi
    return 0
  fi
  case "$cmd $prev" in
${valueCases}
  esac
  positional=""
  case "$cmd" in
${cases}
    *) flags="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [ -n "$positional" ]; then
    # The first word after the command that is not a flag takes one of a fixed set (palette <action>).
    n=0
    for ((i = at + 1; i < COMP_CWORD; i++)); do [[ "\${COMP_WORDS[i]}" == -* ]] || n=$((n + 1)); done
    if [ "$n" -eq 0 ]; then COMPREPLY=($(compgen -W "$positional" -- "$cur")); else COMPREPLY=(); fi
  else
    COMPREPLY=()
  fi
  return 0
}
complete -o default -F _packpub packpub
`;
}

function zsh(commands: CompletionCommand[]): string {
  // zsh runs bash completion functions through bashcompinit.
  return `#compdef packpub
# packpub completion for zsh. Load it with: source <(packpub completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(commands).split('\n').slice(1).join('\n')}`;
}

/** A fish single-quoted string. */
function fishQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fish(commands: CompletionCommand[]): string {
  const lines = ['# packpub completion for fish. Load it with: packpub completion fish | source'];
  for (const f of GLOBAL_FLAGS) lines.push(`complete -c packpub -n __fish_use_subcommand -l ${f.slice(2)}`);
  for (const c of commands) lines.push(`complete -c packpub -n __fish_use_subcommand -f -a ${c.name} -d ${fishQuote(c.describe)}`);
  for (const c of commands) {
    const when = fishQuote(`__fish_seen_subcommand_from ${c.name}`);
    if (c.positional.length > 0) lines.push(`complete -c packpub -n ${when} -f -a ${fishQuote(c.positional.join(' '))}`);
    for (const f of c.flags) {
      const values = c.values[f];
      lines.push(`complete -c packpub -n ${when} -l ${f}${c.booleans.includes(f) ? '' : ' -r'}${values === undefined ? '' : ` -f -a ${fishQuote(values.join(' '))}`}`);
    }
    for (const s of c.short) lines.push(`complete -c packpub -n ${when} -s ${s}`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, commands: CompletionCommand[]): string {
  switch (shell) {
    case 'bash':
      return bash(commands);
    case 'zsh':
      return zsh(commands);
    case 'fish':
      return fish(commands);
  }
}
