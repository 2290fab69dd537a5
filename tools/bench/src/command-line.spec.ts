import { InvalidArgumentError } from 'commander';
import { positiveWhole, wholeOrZero } from './command-line';

describe('positiveWhole', () => {
  it.each([
    ['1', 1],
    ['20000', 20_000],
    ['20_000', 20_000],
  ])('reads %s as %d', (value, expected) => {
    expect(positiveWhole(value)).toBe(expected);
  });

  it.each(['0', '-1', '1.5', '1e3', '', 'x', '007'])('refuses %p', (value) => {
    expect(() => positiveWhole(value)).toThrow(InvalidArgumentError);
  });
});

describe('wholeOrZero', () => {
  it('reads 0 and what positiveWhole reads', () => {
    expect(wholeOrZero('0')).toBe(0);
    expect(wholeOrZero('60')).toBe(60);
  });

  it.each(['-1', '1.5', '', '00'])('refuses %p', (value) => {
    expect(() => wholeOrZero(value)).toThrow(InvalidArgumentError);
  });
});
