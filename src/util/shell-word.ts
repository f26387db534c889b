/**
 * `text` as one word a POSIX shell reads back unchanged, for a command a hint or a next step shows to paste: as it is
 * when it holds only characters no shell treats specially, else in single quotes (a `'` inside as `'\''`).
 */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
