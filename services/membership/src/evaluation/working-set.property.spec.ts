import fc from 'fast-check';
import { Driver } from '../../test/evaluation/driver';
import { arbScenario } from '../../test/evaluation/scenario';

// The proof of the evaluation core: random segments (trait, event, window, recency, sequence,
// tag, list and segment-reference conditions; realtime, manual and scheduled; active or not;
// every re-entry policy) and random streams of what happens to profiles (events on time, late
// and early, trait and tag changes, list changes with stale sequences, re-published changes,
// merges, erasures, rule edits, deletions, refreshes, deleted lists; account segments over
// account trait changes and over their contacts, profiles joining and leaving accounts, the
// contact records a partition publishes routed back to its accounts) with time jumps from
// milliseconds to weeks. Every transition the core decides, at every instant, must be the one
// the brute-force reference decides with the rule library's oracle; so must every membership.
// Every refresh runs over packed profiles (one subject is live), and must leave every profile
// exactly as a refresh of the same states with every profile live leaves it.

const RUNS = Number(process.env['FC_RUNS'] ?? 200);

/** Every kind of condition the scenarios' rules hold. */
const CONDITION_KINDS = [
  'contacts',
  'event.count',
  'event.firstSeen',
  'event.lastSeen',
  'event.sum',
  'hasTag',
  'inList',
  'inSegment',
  'lacksTag',
  'notInList',
  'notInSegment',
  'sequence',
  'trait',
];

describe('the evaluation core against the reference', () => {
  it(`decides every transition the oracle decides, at the same instant (${RUNS} runs)`, () => {
    let transitions = 0;
    let timeTransitions = 0;
    let accountTransitions = 0;
    let contactTransitions = 0;
    let leftPacked = 0;
    const refreshesOverPacked = new Map<string, number>();
    fc.assert(
      fc.property(arbScenario({ maxSteps: 40 }), (scenario) => {
        const driver = new Driver(scenario);
        driver.run();
        transitions += driver.stats.transitions;
        timeTransitions += driver.stats.timeTransitions;
        accountTransitions += driver.stats.accountTransitions;
        contactTransitions += driver.stats.contactTransitions;
        leftPacked += driver.stats.leftPacked;
        for (const [kind, count] of driver.stats.refreshesOverPacked)
          refreshesOverPacked.set(kind, (refreshesOverPacked.get(kind) ?? 0) + count);
      }),
      { numRuns: RUNS },
    );
    // Guard against a vacuous property: membership must actually move, by data and by time.
    expect(transitions).toBeGreaterThan(RUNS * 5);
    expect(timeTransitions).toBeGreaterThan(RUNS);
    expect(accountTransitions).toBeGreaterThan(RUNS / 4);
    expect(contactTransitions).toBeGreaterThan(RUNS / 4);
    // refreshes decide packed profiles without reviving them, under rules of every kind
    expect(leftPacked).toBeGreaterThan(RUNS * 10);
    expect([...refreshesOverPacked.keys()].sort()).toEqual(CONDITION_KINDS);
  });
});
