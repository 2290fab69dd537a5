import { DAY_MS, addMonths } from './calendar';
import { windowBucketRange, windowLeaveIndex } from './windows';

describe('sliding windows', () => {
  const day = (text: string): number => Math.round(Date.parse(`${text}T00:00:00Z`) / DAY_MS);

  it('makes "last 7 days" today and the 6 previous calendar days', () => {
    expect(windowBucketRange({ kind: 'last', count: 7 }, day('2024-03-31'))).toEqual([
      day('2024-03-25'),
      day('2024-03-31'),
    ]);
  });

  it.each([
    ['2024-05-15', 1, '2024-04-16'],
    ['2024-03-31', 1, '2024-03-01'],
    ['2024-03-30', 1, '2024-03-01'],
    ['2024-03-01', 1, '2024-02-02'],
    ['2025-01-10', 3, '2024-10-11'],
  ])(
    'makes "last %s months" (%i) start on the day after today minus the months',
    (today, months, first) => {
      expect(windowBucketRange({ kind: 'months', count: months }, day(today))[0]).toBe(day(first));
    },
  );

  it('lets a day leave a months window on the first day whose window starts after it', () => {
    const shape = { kind: 'months', count: 1 } as const;
    for (const bucket of [day('2024-01-31'), day('2024-02-29'), day('2024-12-15')]) {
      const leave = windowLeaveIndex(shape, bucket);
      expect(windowBucketRange(shape, leave)[0]).toBeGreaterThan(bucket);
      expect(windowBucketRange(shape, leave - 1)[0]).toBeLessThanOrEqual(bucket);
    }
  });

  it('covers exactly one period for a calendar window', () => {
    expect(windowBucketRange({ kind: 'calendar', offset: -1 }, 2024)).toEqual([2023, 2023]);
  });

  it('clamps days when adding months', () => {
    expect(addMonths({ year: 2024, month: 3, day: 31 }, -1)).toEqual({
      year: 2024,
      month: 2,
      day: 29,
    });
    expect(addMonths({ year: 2024, month: 1, day: 31 }, 13)).toEqual({
      year: 2025,
      month: 2,
      day: 28,
    });
  });
});
