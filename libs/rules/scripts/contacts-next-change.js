// How long nextChange takes for account rules counting their contacts, and whether it finds the
// change (certain) or settles for a re-check instant. Measures the built library:
//
//   npm run build -w @shoal/rules && node libs/rules/scripts/contacts-next-change.js [10,100,1000,5000]
//
// Each case is an account whose N contacts each visited once, spread over the last 30 days; the
// rule counts contacts meeting a time-relative condition, so the count falls one contact (or one
// day's contacts) at a time and the threshold decides how many must leave before it changes. The
// last cases count contacts whose birthday (spread over the year) is today, against a threshold
// never reached, so the search runs until its allowance is used up.
const { nextChange } = require('@shoal/rules');
const { ruleFromJson, stateAfter, trackEvent } = require('@shoal/rules/testing');

const DAY = 86_400_000;
const NOW = Date.parse('2024-06-15T12:00:00Z');

const members = {
  'last visit within 30 days': { event: { name: 'Visit', lastSeen: { withinLast: { days: 30 } } } },
  'a visit in the last 30 days (day buckets)': {
    event: { name: 'Visit', count: { gte: 1 }, window: { lastDays: 30 } },
  },
};
const birthdayToday = { trait: { path: 'birthday', anniversary: { withinNextDays: 0 } } };
const sizes = (process.argv[2] ?? '10,100,1000,5000').split(',').map(Number);

function account(where, contacts, threshold) {
  const rule = ruleFromJson({
    audience: 'AUDIENCE_ACCOUNTS',
    timeZone: 'Europe/Berlin',
    condition: { contacts: { where, count: { gte: threshold } } },
  });
  const memberRule = ruleFromJson({ timeZone: 'Europe/Berlin', condition: where });
  const states = Array.from({ length: contacts }, (_, index) =>
    stateAfter({
      rule: memberRule,
      events: [
        trackEvent('Visit', new Date(NOW - 60_000 - (index * 30 * DAY) / contacts).toISOString()),
      ],
      init: {
        traits: {
          birthday: new Date(Date.UTC(1990, 0, 1) + (index * 365 * DAY) / contacts)
            .toISOString()
            .slice(0, 10),
        },
      },
    }),
  );
  return { rule, state: stateAfter({ rule, events: [], init: { contacts: states } }) };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(name, where, contacts, label, threshold) {
  const { rule, state } = account(where, contacts, threshold);
  const times = [];
  let result;
  const deadline = Date.now() + 3000;
  do {
    const start = process.hrtime.bigint();
    result = nextChange({ rule, state, now: NOW });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  } while (times.length < 50 && Date.now() < deadline);
  const found =
    result === undefined
      ? 'never'
      : `${new Date(result.at).toISOString()}${result.certain ? '' : ' (re-check)'}`;
  console.log(
    [name, contacts, label, `${median(times).toFixed(2)} ms`, `${times.length} runs`, found].join(
      ' | ',
    ),
  );
}

for (const [name, where] of Object.entries(members)) {
  for (const contacts of sizes) {
    measure(name, where, contacts, 'first leaves', contacts);
    measure(name, where, contacts, 'half leave', Math.ceil(contacts / 2));
    measure(name, where, contacts, 'all leave', 1);
  }
}
for (const contacts of sizes) measure('birthday today', birthdayToday, contacts, 'never 100', 100);
