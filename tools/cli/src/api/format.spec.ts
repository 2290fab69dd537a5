import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import {
  ConditionExplanationSchema,
  MembershipTransitionSchema,
  RefreshMode,
  SegmentKind,
  SegmentSchema,
  SegmentState,
  TransitionCause,
  TransitionKind,
} from '@shoal/contracts';
import { GrpcCallError } from '@shoal/platform';
import { EXIT } from '../command-line';
import {
  describeFailure,
  explanationLines,
  exitCodeOf,
  formatTable,
  progressLine,
  segmentTable,
  transitionLine,
} from './format';

describe('output for people', () => {
  it('pads columns to their widest cell without trailing spaces', () => {
    expect(
      formatTable([
        ['ID', 'NAME'],
        ['seg_1', 'VIP'],
        ['s', ''],
      ]),
    ).toBe('ID     NAME\nseg_1  VIP\ns\n');
  });

  it('shows a segment as one row with kind, state, refresh and member count', () => {
    const segment = create(SegmentSchema, {
      id: 'seg_1',
      name: 'Lapsed',
      kind: SegmentKind.DYNAMIC,
      state: SegmentState.READY,
      refresh: { mode: RefreshMode.SCHEDULED, cron: '0 */4 * * *' },
      memberCount: 42n,
      version: 3n,
      updatedAt: timestampFromDate(new Date('2026-11-30T10:00:00.123Z')),
    });
    const [, row] = segmentTable([segment]).split('\n');
    expect(row.split(/\s{2,}/)).toEqual([
      'seg_1',
      'Lapsed',
      'dynamic',
      'unspecified',
      'ready',
      'scheduled (0 */4 * * *)',
      '42',
      '3',
      '2026-11-30T10:00:00Z',
    ]);
  });

  it('shows a transition with its kind, segment, profile, cause and sequence', () => {
    const transition = create(MembershipTransitionSchema, {
      kind: TransitionKind.EXITED,
      segmentId: 'seg_1',
      profileId: 'p1',
      cause: TransitionCause.TIME,
      sequence: 2n,
      occurredAt: timestampFromDate(new Date('2026-11-30T10:00:00Z')),
    });
    expect(transitionLine(transition)).toBe(
      '2026-11-30T10:00:00Z  exited   seg_1  p1  cause=time  seq=2',
    );
  });

  it('indents an explanation by depth and marks each condition', () => {
    const tree = create(ConditionExplanationSchema, {
      path: 'condition',
      matched: false,
      summary: 'all of',
      children: [
        {
          path: 'condition.all[0]',
          matched: true,
          summary: 'Order Completed count > 1',
          observed: { kind: { case: 'numberValue', value: 2 } },
        },
        { path: 'condition.all[1]', matched: false, summary: '', notes: ['no events'] },
        {
          path: 'condition.all[2]',
          matched: true,
          summary: 'sum of Order Completed.total over all time = 0.3 (needs > 0.25)',
          observed: { kind: { case: 'numberValue', value: 0.1 + 0.2 } },
        },
      ],
    });
    expect(explanationLines(tree)).toEqual([
      '✗ all of',
      '  ✓ Order Completed count > 1 (observed 2)',
      '  ✗ condition.all[1]',
      '    note: no events',
      '  ✓ sum of Order Completed.total over all time = 0.3 (needs > 0.25) (observed 0.3)',
    ]);
  });

  it('draws a bar when the total is known and a count when it is not', () => {
    expect(progressLine(50, 100, 'ids')).toBe(
      `[${'#'.repeat(15)}${'-'.repeat(15)}]  50%  50/100 ids`,
    );
    expect(progressLine(120, 100, 'ids')).toContain('100%');
    expect(progressLine(7, undefined, 'rows')).toBe('7 rows');
  });
});

describe('failures', () => {
  it('prints a refused rule with each violation’s field path and ends with 4', () => {
    const error = new GrpcCallError(
      status.INVALID_ARGUMENT,
      'the rule is invalid',
      'INVALID_RULE',
      [
        {
          field: 'segment.rule.condition.all.conditions[1].event.name',
          description: 'is required',
        },
        { field: 'segment.name', description: 'must not be empty' },
      ],
    );
    expect(describeFailure(error)).toEqual({
      message:
        'shoal: INVALID_ARGUMENT: 2 problems with the request:\n' +
        '  segment.rule.condition.all.conditions[1].event.name: is required\n' +
        '  segment.name: must not be empty\n',
      exitCode: EXIT.refused,
    });
  });

  it('says how to start Shoal when a service cannot be reached', () => {
    const { message, exitCode } = describeFailure(
      new GrpcCallError(status.UNAVAILABLE, 'No connection established', '', []),
    );
    expect(exitCode).toBe(EXIT.unavailable);
    expect(message).toContain('./shoal up');
  });

  it.each([
    [status.NOT_FOUND, EXIT.notFound],
    [status.FAILED_PRECONDITION, EXIT.refused],
    [status.ABORTED, EXIT.refused],
    [status.PERMISSION_DENIED, EXIT.refused],
    [status.UNAUTHENTICATED, EXIT.refused],
    [status.DEADLINE_EXCEEDED, EXIT.unavailable],
    [status.INTERNAL, EXIT.failure],
  ])('maps gRPC status %s to exit code %s', (code, exit) => {
    expect(exitCodeOf(code)).toBe(exit);
  });

  it('ends any other error with 1', () => {
    expect(describeFailure(new Error('boom'))).toEqual({
      message: 'shoal: boom\n',
      exitCode: EXIT.failure,
    });
  });
});
