import { isPackpubError, type PackpubError } from '../../src/errors.js';

/** The PackpubError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function failure(p: Promise<unknown>): Promise<PackpubError> {
  const err = await p.then(
    () => new Error('expected a failure, but it succeeded'),
    (e: unknown) => e,
  );
  if (!isPackpubError(err)) throw new Error(`expected a PackpubError, got ${String(err)}`);
  return err;
}
