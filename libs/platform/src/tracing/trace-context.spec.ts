import { childContext, formatTraceparent, parseTraceparent } from './trace-context';

describe('trace context', () => {
  it('round-trips a W3C traceparent', () => {
    const value = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const parsed = parseTraceparent(value);
    expect(parsed).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
    });
    expect(formatTraceparent(parsed!)).toBe(value);
  });

  it('ignores malformed or all-zero values', () => {
    expect(parseTraceparent('garbage')).toBeUndefined();
    expect(
      parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'),
    ).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });

  it('continues the parent trace in a child span', () => {
    const parent = childContext();
    const child = childContext(parent);
    expect(child.traceId).toBe(parent.traceId);
    expect(child.spanId).not.toBe(parent.spanId);
  });

  it('gives every new trace and span its own well-formed ids, also across many calls', () => {
    const contexts = Array.from({ length: 2_000 }, () => childContext());
    const ids = contexts.flatMap((c) => [c.traceId, c.spanId]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const context of contexts) {
      expect(parseTraceparent(formatTraceparent(context))).toEqual(context);
    }
  });
});
