import fc from 'fast-check';
import { Driver } from '../../test/evaluation/driver';
import { arbScenario } from '../../test/evaluation/scenario';

// The proof of the evaluation core: random segments (trait, event, window, recency, sequence,
// tag, list and segment-reference conditions; realtime, manual and scheduled; active or not;
// every re-entry policy) and random streams of what happens to profiles (events on time, late
// and early, trait and tag changes, list changes with stale sequences, re-published changes,
// merges, erasures, rule edits, deletions, refreshes, deleted lists) with time jumps from
// milliseconds to weeks. Every transition the core decides, at every instant, must be the one
// the brute-force reference decides with the rule library's oracle; so must every membership.

const RUNS = Number(process.env['FC_RUNS'] ?? 200);

describe('the evaluation core against the reference', () => {
  it(`decides every transition the oracle decides, at the same instant (${RUNS} runs)`, () => {
    let transitions = 0;
    let timeTransitions = 0;
    fc.assert(
      fc.property(arbScenario({ maxSteps: 40 }), (scenario) => {
        const driver = new Driver(scenario);
        driver.run();
        transitions += driver.stats.transitions;
        timeTransitions += driver.stats.timeTransitions;
      }),
      { numRuns: RUNS },
    );
    // Guard against a vacuous property: membership must actually move, by data and by time.
    expect(transitions).toBeGreaterThan(RUNS * 5);
    expect(timeTransitions).toBeGreaterThan(RUNS);
  });
});
