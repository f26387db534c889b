import type { CliIo } from './io.js';

/** Questions on a terminal: asked on stderr, answered on stdin (only when stdin is a terminal: stdinIsTty). */

/** Standard input is a terminal a person can answer on (never with --no-tty). */
export function stdinIsTty(io: CliIo): boolean {
  return io.noTty !== true && (io.stdin as { isTTY?: boolean }).isTTY === true;
}

/** A visible line from a terminal (a user name, an answer), trimmed; '' when input ends first. */
export async function promptLine(io: CliIo, question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  // An input that ends (or a closed interface) answers '' rather than leaving the question pending; an
  // answer line just before the end still counts (input piped in ends right after it).
  let answered: string | undefined;
  const answer = rl.question(question).then(
    (line) => (answered = line),
    () => '',
  );
  const ended = new Promise<string>((resolve) => rl.once('close', () => setImmediate(() => resolve(answered ?? ''))));
  // Ctrl-C at the question is a "no" (readline would otherwise only pause).
  rl.once('SIGINT', () => rl.close());
  try {
    return (await Promise.race([answer, ended])).trim();
  } finally {
    rl.close();
  }
}

/** A yes/no question whose default is No: only `y` or `yes` (any case) is a yes. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  return /^y(es)?$/i.test(await promptLine(io, `${question} [y/N] `));
}
