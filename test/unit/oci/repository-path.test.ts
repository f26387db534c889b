import { describe, expect, it } from 'vitest';
import { validateRepositoryPath } from '../../../src/oci/reference.js';

// validateRepositoryPath remembers the paths it found valid: an invalid path must still be refused, with
// its own message, every time, and a remembered one answered as before.
describe('validateRepositoryPath, asked again', () => {
  it('answers a valid path the same way each time', () => {
    expect(validateRepositoryPath('spectro-packs/archive/cni-calico', 'pack repository')).toBe('spectro-packs/archive/cni-calico');
    expect(validateRepositoryPath('spectro-packs/archive/cni-calico', 'pack repository')).toBe('spectro-packs/archive/cni-calico');
  });

  it('refuses an invalid path each time, naming what was asked about', () => {
    for (const what of ['pack repository', 'base path', 'pack repository']) {
      expect(() => validateRepositoryPath('spectro-packs/Archive/x', what)).toThrow(`${what} "spectro-packs/Archive/x" has an invalid path component "Archive"`);
    }
  });

  it('refuses a path that only differs from a remembered one', () => {
    validateRepositoryPath('a/b');
    expect(() => validateRepositoryPath('a/b/')).toThrow(/invalid path component ""/);
    expect(() => validateRepositoryPath('a//b')).toThrow(/invalid path component ""/);
    expect(() => validateRepositoryPath(`${'a'.repeat(256)}`)).toThrow(/at most 255/);
  });
});
