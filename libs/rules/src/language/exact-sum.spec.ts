import fc from 'fast-check';
import { addToSum, exactSumOf, mergeSums, sumValue } from './exact-sum';
import { propertyRuns } from '../testing/arbitraries';

describe('exact sums', () => {
  it('sum decimals exactly where naive addition drifts', () => {
    expect(0.1 + 0.2 + 0.3).not.toBe(0.6);
    expect(exactSumOf([0.1, 0.2, 0.3])).toBe(0.6);
    expect(exactSumOf([1e16, 1, -1e16])).toBe(1);
    expect(exactSumOf([])).toBe(0);
  });

  it('do not depend on the order or grouping of the values', () => {
    const values = fc.array(
      fc.oneof(
        fc.double({ min: -1e12, max: 1e12, noNaN: true }),
        fc.constantFrom(0.1, 0.2, 1e16, -1e16),
      ),
      {
        maxLength: 30,
      },
    );
    fc.assert(
      fc.property(values, fc.nat(30), (list, cut) => {
        const expected = exactSumOf(list);
        expect(exactSumOf([...list].reverse())).toBe(expected);
        const left = list.slice(0, cut).reduce<number[]>((sum, value) => addToSum(sum, value), []);
        const right = list.slice(cut).reduce<number[]>((sum, value) => addToSum(sum, value), []);
        expect(sumValue(mergeSums(right, left))).toBe(expected);
      }),
      { numRuns: propertyRuns(300, process.env['FC_RUNS']) },
    );
  });
});
