import { describe, expect, it } from 'vitest';

import { formatGoDuration, parseGoDuration } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

describe('parseGoDuration', () => {
  it.each([
    ['1h2m3.5s', 3_723_500],
    ['250ms', 250],
    ['1.5s', 1_500],
    ['0s', 0],
    ['0', 0],
    ['-0', 0],
    ['+0', 0],
    ['10us', 0.01],
    ['10\u00b5s', 0.01], // µ MICRO SIGN
    ['10\u03bcs', 0.01], // μ GREEK SMALL LETTER MU
    ['5ns', 0.000005],
    ['-1s', -1_000],
    ['+2s', 2_000],
    ['1m', 60_000],
    ['5m', 300_000],
    ['2h45m', 9_900_000],
    ['1.s', 1_000],
    ['.5s', 500],
    ['1h1h', 7_200_000],
    ['1s500ms', 1_500],
    ['1.0000000001s', 1_000], // sub-nanosecond digits truncate like Go
    ['0.1ns', 0],
    ['9223372036854775807ns', 9223372036854.775],
  ])('%s → %d ms', (input, ms) => {
    expect(parseGoDuration(input)).toBeCloseTo(ms, 9);
  });

  it('never returns -0', () => {
    expect(Object.is(parseGoDuration('-0s'), 0)).toBe(true);
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['5', 'time: missing unit in duration "5"'],
    ['1.5', 'time: missing unit in duration "1.5"'],
    ['5x', 'time: unknown unit "x" in duration "5x"'],
    ['1s ', 'time: unknown unit "s " in duration "1s "'],
    ['.s', 'time: invalid duration ".s"'],
    ['s', 'time: invalid duration "s"'],
    ['-', 'time: invalid duration "-"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
  ])('rejects %j like Go', (input, message) => {
    expect(() => parseGoDuration(input)).toThrow(ConfigError);
    expect(() => parseGoDuration(input)).toThrow(message);
  });
});

describe('formatGoDuration', () => {
  it.each([
    [300_000, '5m0s'],
    [1_500, '1.5s'],
    [3_723_500, '1h2m3.5s'],
    [0.01, '10µs'],
    [0.000005, '5ns'],
    [0, '0s'],
    [250, '250ms'],
    [3_600_000, '1h0m0s'],
    [25_000, '25s'],
    [1.2, '1.2ms'],
    [0.0015, '1.5µs'],
    [-1_500, '-1.5s'],
    [90_061_001, '25h1m1.001s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });

  it.each(['1h2m3.5s', '5m0s', '1.5s', '250ms', '0s', '10µs', '5ns', '1h0m0s', '-2m3s'])('round-trips %s', (text) => {
    expect(formatGoDuration(parseGoDuration(text))).toBe(text);
  });

  it('rejects non-finite values', () => {
    expect(() => formatGoDuration(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => formatGoDuration(Number.NaN)).toThrow(RangeError);
  });
});
