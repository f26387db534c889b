import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/io.js';
import { confirm, stdinIsTty } from '../../../src/cli/prompt.js';

/* The confirmation delete asks on a terminal (the real terminal is in test/e2e/delete.test.ts): default No. */

function io(answer: string[] | undefined, tty = true): { io: CliIo; asked: () => string } {
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c));
  const stdin = answer === undefined ? new PassThrough() : Readable.from(answer.map((a) => Buffer.from(a)));
  Object.assign(stdin, { isTTY: tty });
  return { io: { stdout: new PassThrough(), stderr, stdin, env: {}, cwd: '.' }, asked: () => Buffer.concat(chunks).toString('utf8') };
}

describe('confirm', () => {
  it.each([
    ['y\n', true],
    ['YES\n', true],
    [' yes \n', true],
    ['\n', false],
    ['n\n', false],
    ['yep\n', false],
  ])('%j -> %s', async (answer, expected) => {
    const t = io([answer]);
    expect(await confirm(t.io, 'Delete 1 version(s)?')).toBe(expected);
    expect(t.asked()).toContain('Delete 1 version(s)? [y/N] ');
  });

  it('input that ends without an answer is a no', async () => {
    expect(await confirm(io([]).io, 'Delete?')).toBe(false);
  });

  it('asks only when stdin is a terminal and --no-tty is not given', () => {
    expect(stdinIsTty(io([], true).io)).toBe(true);
    expect(stdinIsTty(io([], false).io)).toBe(false);
    expect(stdinIsTty({ ...io([], true).io, noTty: true })).toBe(false);
  });
});
