import { describe, expect, it } from 'vitest';
import { digestHeader } from '../../../src/registry/http.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const of = (v: string | string[] | undefined) => digestHeader({ headers: { 'docker-content-digest': v } });

describe('digestHeader', () => {
  it('is the one digest an answer names, however often a proxy repeats it', () => {
    expect(of(A)).toBe(A);
    expect(of(` ${A} `)).toBe(A);
    expect(of([A, A])).toBe(A);
    expect(of(`${A}, ${A}`)).toBe(A);
    expect(of(undefined)).toBeUndefined();
  });

  it('keeps two different digests joined, which no digest check takes for either', () => {
    expect(of([A, B])).toBe(`${A}, ${B}`);
    expect(of(`${A},${B}`)).toBe(`${A}, ${B}`);
  });

  it('an empty header names no digest: empty, as before', () => {
    expect(of('')).toBe('');
  });
});
