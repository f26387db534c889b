import { describe, expect, it } from 'vitest';
import { isImageReference, validateRepositoryPath } from '../../../src/oci/reference.js';

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

// values.yaml's pack.content.images entries (validate's values-image-reference) as Docker and containerd read a name
// (distribution/reference normalize.go splitDockerDomain): a first component holding ".", ":" or a capital, or
// "localhost", is a registry host.
describe('isImageReference', () => {
  it('takes a first component in capitals as a registry host, as Docker does; a repository in capitals is none', () => {
    const cases = ['MyRegistry/app:1.0', 'REG/team/app@sha256:' + 'a'.repeat(64), 'registry/app:1', 'localhost/app', 'reg:5000/app', 'myregistry/App:1', 'Reg/App:1', 'Reg:1/app'];
    expect(cases.map((c) => [c, isImageReference(c)])).toEqual([
      ['MyRegistry/app:1.0', true],
      ['REG/team/app@sha256:' + 'a'.repeat(64), true],
      ['registry/app:1', true],
      ['localhost/app', true],
      ['reg:5000/app', true],
      ['myregistry/App:1', false],
      ['Reg/App:1', false],
      ['Reg:1/app', true],
    ]);
  });
});
