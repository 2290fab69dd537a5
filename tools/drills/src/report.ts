import type { DrillReport } from './drills';

const seconds = (ms: number | undefined) => (ms === undefined ? '—' : (ms / 1000).toFixed(1));
const EXAMPLES = 5;

/** The report as Markdown tables, the form docs/reliability.md quotes. */
export function formatReport(report: DrillReport): string {
  const t = report.transitions;
  const lines = [
    `# Drill run ${report.runId} (${report.startedAt})`,
    '',
    `${report.passed ? 'PASSED' : 'FAILED'}: ${report.eventsSent} events over ${report.profiles} profiles ` +
      `at ${report.options.ratePerSecond}/s, ${report.options.partitions} partitions, seed ${report.options.seed}; ` +
      `load average ${report.loadAverage.min.toFixed(1)}–${report.loadAverage.max.toFixed(1)}.`,
    '',
    '| drill | down (s) | stream recovered (s) | max event→transition (s) | producer backlog | load |',
    '| --- | --: | --: | --: | --: | --: |',
    ...report.drills.map(
      (d) =>
        `| ${d.drill} | ${seconds(d.downMs)} | ${seconds(d.streamRecoveredMs)} | ${seconds(d.maxLatencyMs)} | ${d.producerBacklog} | ${d.loadAverage.toFixed(1)} |`,
    ),
    '',
    '| transitions | expected | seen (records) | distinct ids | re-deliveries | missing | unexpected | duplicated | conflicting ids |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: |',
    `| \`shoal.membership.changes\` | ${t.expected} | ${t.seen} | ${t.distinct} | ${t.redelivered} | ${t.missing.length} | ${t.unexpected.length} | ${t.duplicated.length} | ${t.conflicting.length} |`,
    '',
    `Caught up ${seconds(report.catchUpMs)} s after the stream stopped. IsMember: ${report.membership.checked} ` +
      `(profile, segment) pairs, ${report.membership.wrong.length} wrong. Webhook (${report.webhook.segment}): ` +
      `${report.webhook.expected} transitions, ${report.webhook.delivered} delivered, ` +
      `${report.webhook.redelivered} re-sent, ${report.webhook.missing} missing.`,
    '',
    '| segment | members expected | CountMembers |',
    '| --- | --: | --: |',
    ...Object.entries(report.membership.counts).map(
      ([name, c]) => `| ${name} | ${c.expected} | ${c.served} |`,
    ),
    '',
  ];
  if (report.supervisorRestarts.length > 0) {
    lines.push('Restarts by the supervisor (as the orchestrator’s liveness probe would):');
    for (const r of report.supervisorRestarts) lines.push(`- ${r.service} at ${r.at}: ${r.reason}`);
    lines.push('');
  }
  if (report.poison.length > 0) {
    lines.push('| poison record | dead-lettered to (reason) |', '| --- | --- |');
    for (const p of report.poison) {
      const where = Object.entries(p.deadLettered)
        .map(([topic, reason]) => `${topic} (${reason ?? 'MISSING'})`)
        .join(', ');
      lines.push(`| ${p.label} | ${where || 'no dead-letter topic: skipped by its followers'} |`);
    }
    lines.push('');
  }
  if (!report.passed) {
    lines.push('Failures:', ...report.failures.map((f) => `- ${f}`));
    const examples = [
      ...t.missing.slice(0, EXAMPLES).map((m) => `missing ${m}`),
      ...t.unexpected.slice(0, EXAMPLES).map((m) => `unexpected ${m}`),
      ...t.duplicated.slice(0, EXAMPLES).map((m) => `duplicated ${m}`),
      ...t.conflicting.slice(0, EXAMPLES).map((m) => `conflicting ${m}`),
      ...report.membership.wrong.slice(0, EXAMPLES),
    ];
    if (examples.length > 0) lines.push('', 'Examples:', ...examples.map((e) => `- ${e}`));
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
