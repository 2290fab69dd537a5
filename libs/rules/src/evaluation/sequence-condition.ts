import type { SequenceCondition } from '@shoal/contracts';
import { windowPlanOf, sequenceSpecOf } from '../incremental/dependencies';
import {
  completeChains,
  followUpAfter,
  type Chain,
  type ChainShape,
} from '../incremental/sequence';
import type { EvaluationState } from '../incremental/state';
import { formatInstant } from '../language/values';
import { bucketIndex } from '../time/buckets';
import { windowChanges, windowCovers } from '../time/windows';
import { ascendingAfter, explanation, type CompiledLeaf, type Context } from './condition';
import { describeWindow } from './describe';
import { describeSpan, spanMs } from './time-test';

/** Steps in order (with gaps, spans and a window), optionally not followed by an event in time. */
export function compileSequence(
  sequence: SequenceCondition,
  path: string,
  context: Context,
): CompiledLeaf {
  const spec = sequenceSpecOf({ sequence, timeZone: context.timeZone, limits: context.limits });
  const plan = windowPlanOf(sequence.window, context.timeZone);
  const followUp = sequence.notFollowedBy;
  const shape: ChainShape = {
    maxGap: sequence.maxGap === undefined ? undefined : spanMs(sequence.maxGap),
    within: sequence.within === undefined ? undefined : spanMs(sequence.within),
    followUpWithin: followUp === undefined ? undefined : spanMs(followUp.within),
  };
  const analyse = (
    state: EvaluationState,
    now: number,
  ): { chains: Chain[]; qualifying: Chain | undefined } => {
    const occurrences = state.sequences[spec.key];
    if (occurrences === undefined) return { chains: [], qualifying: undefined };
    const covers = windowCovers(plan, now, context.timeZone);
    const chains = completeChains({ steps: occurrences.steps, covers, shape });
    const within = shape.followUpWithin;
    const qualifying =
      within === undefined
        ? chains[chains.length - 1]
        : chains.find(
            (chain) =>
              now > chain.end + within &&
              followUpAfter(occurrences.followUps, chain.end, within) === undefined,
          );
    return { chains, qualifying };
  };
  const evaluate = (state: EvaluationState, now: number): boolean =>
    analyse(state, now).qualifying !== undefined;
  const names = sequence.steps.map((step) => step.event).join(' → ');
  return {
    kind: 'leaf',
    evaluate,
    changeCandidates: function* (state, now) {
      const occurrences = state.sequences[spec.key];
      if (occurrences === undefined) return;
      const buckets =
        plan.kind === 'sliding'
          ? occurrences.steps.flatMap((list) =>
              list.map((instant) => bucketIndex(plan.unit, instant, context.timeZone)),
            )
          : [];
      const within = shape.followUpWithin;
      const deadlines =
        within === undefined
          ? []
          : ascendingAfter(
              now,
              (occurrences.steps[occurrences.steps.length - 1] ?? []).map(
                (end) => end + within + 1,
              ),
            );
      // Window changes and follow-up deadlines, merged in order.
      let next = 0;
      for (const at of windowChanges(plan, buckets, now, context.timeZone)) {
        while (next < deadlines.length && (deadlines[next] as number) < at)
          yield deadlines[next++] as number;
        if (deadlines[next] === at) next += 1;
        yield at;
      }
      yield* deadlines.slice(next);
    },
    explain: (state, now) => {
      const { chains, qualifying } = analyse(state, now);
      const occurrences = state.sequences[spec.key];
      const truncated = (occurrences?.steps ?? []).some(
        (list) => list.length >= spec.occurrenceCap,
      );
      const windowText = describeWindow(sequence.window, context.timeZone);
      let summary: string;
      if (followUp === undefined) {
        summary =
          qualifying === undefined
            ? `no complete sequence ${names} ${windowText}`
            : `sequence ${names} completed ${windowText}: from ${formatInstant(qualifying.start)} to ${formatInstant(qualifying.end)}`;
      } else if (qualifying !== undefined) {
        summary = `sequence ${names} completed at ${formatInstant(qualifying.end)} and not followed by ${followUp.event} within ${describeSpan(followUp.within)}`;
      } else if (chains.length === 0) {
        summary = `no complete sequence ${names} ${windowText}`;
      } else {
        const within = shape.followUpWithin as number;
        const pending = chains.find(
          (chain) =>
            now <= chain.end + within &&
            followUpAfter(occurrences?.followUps ?? [], chain.end, within) === undefined,
        );
        summary =
          pending === undefined
            ? `every completed sequence ${names} was followed by ${followUp.event} within ${describeSpan(followUp.within)}`
            : `sequence ${names} completed at ${formatInstant(pending.end)}; waiting until ${formatInstant(pending.end + within + 1)} for ${followUp.event}`;
      }
      return explanation({
        path,
        matched: qualifying !== undefined,
        summary,
        observed: chains.length,
        notes: truncated
          ? [`only the ${spec.occurrenceCap} most recent occurrences of each step are considered`]
          : [],
      });
    },
  };
}
