import { randomBytes } from 'node:crypto';

/*
 * Throwaway secrets made at run time, and checks on what a command prints: a secret in any form it could
 * leak in, and stack traces.
 */

/** A secret made for one test run: `label`, a dash and 16 random hex digits (no committed text is a credential). */
export function throwawaySecret(label: string): string {
  return `${label}-${randomBytes(8).toString('hex')}`;
}

export interface SecretForm {
  /** What it is, for failure messages (never the value itself). */
  label: string;
  value: string;
}

/** A secret as it could leak: itself, and its base64 forms alone and as Basic `user:secret`. */
export function secretForms(label: string, secret: string, user?: string): SecretForm[] {
  const forms: SecretForm[] = [{ label, value: secret }];
  const add = (what: string, text: string) => {
    forms.push({ label: `base64(${what})`, value: Buffer.from(text).toString('base64') });
    forms.push({ label: `base64url(${what})`, value: Buffer.from(text).toString('base64url') });
  };
  add(label, secret);
  if (user !== undefined) add(`${user}:${label}`, `${user}:${secret}`);
  if (encodeURIComponent(secret) !== secret) forms.push({ label: `urlencoded(${label})`, value: encodeURIComponent(secret) });
  // base64 of short inputs ends in padding that may not show; compare without it
  return forms.map((f) => ({ ...f, value: f.value.replace(/=+$/, '') }));
}

/** Labels of the forms found in `text` (empty when nothing leaked). */
export function leaks(text: string, forms: readonly SecretForm[]): string[] {
  return forms.filter((f) => f.value.length > 0 && text.includes(f.value)).map((f) => f.label);
}

/** Lines of text that look like a JavaScript stack frame. */
export function stackLines(text: string): string[] {
  return text.split('\n').filter((l) => /^\s+at .+(\(|:\d+:\d+)/.test(l));
}
