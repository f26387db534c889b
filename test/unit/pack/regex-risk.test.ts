import { describe, expect, it } from 'vitest';
import { regexRisk } from '../../../src/pack/values-schema.js';

// Patterns of values.schema.json run in JavaScript's backtracking engine (Helm's RE2 is linear): an unsafe one is never tried.
describe('regexRisk', () => {
  it.each([
    ['^(a+)+$', 'a repeated group that repeats inside'],
    ['^(\\w+\\s?){8}$', 'a fixed count of a group that repeats inside (n^7 steps)'],
    ['^(a|a){30}$', 'a fixed count of a group that alternates inside (2^30 steps)'],
    ['^(?:a*b?){2}$', 'a fixed count of two, non-capturing'],
    ['^(a)\\1$', 'a backreference'],
  ])('%s is unsafe: %s', (pattern) => {
    expect(regexRisk(pattern).unsafe).toBe(true);
  });

  it.each([
    ['^(ab){3}$', 0],
    ['^(a+){1}$', 1],
    ['^(a|b)?$', 0],
    ['^[a-z]{8}$', 0],
    ['^.{2,256}:\\d{2,5}$', 2],
    ['^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', 1],
  ])('%s is safe, with %i unbounded repeats', (pattern, unbounded) => {
    expect(regexRisk(pattern)).toEqual({ unbounded, unsafe: false });
  });
});
