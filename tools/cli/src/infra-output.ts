import type { ComponentStatus, InfraEndpoints } from '@shoal/local-infra';

/** Plain KEY=value lines: fine for eval, `source`, `export $(...)` and dotenv files alike. */
export function formatEnv(endpoints: InfraEndpoints): string {
  return `KAFKA_BROKERS=${endpoints.kafkaBrokers.join(',')}\nMONGO_URL=${endpoints.mongoUrl}\n`;
}

export function formatStatusTable(statuses: readonly ComponentStatus[]): string {
  const yesNo = (value: boolean) => (value ? 'yes' : 'no');
  const rows = [
    ['COMPONENT', 'RUNNING', 'READY', 'PID', 'ENDPOINT', 'DETAIL'],
    ...statuses.map((status) => [
      status.component,
      yesNo(status.running),
      yesNo(status.ready),
      status.pid === undefined ? '-' : String(status.pid),
      status.endpoint,
      status.detail ?? '',
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}
