import { type CronSchedule, type FieldViolation, isTimeZone } from '@shoal/platform';
import { CronExpressionParser } from 'cron-parser';

export { type CronSchedule, dueTick, nextTicks } from '@shoal/platform';

/** Every 4 hours on the hour, UTC: what SCHEDULED segments without a cron of their own follow. */
export const DEFAULT_SCHEDULE: CronSchedule = { cron: '0 */4 * * *', timeZone: '' };

const CRON_MAX_LENGTH = 200;

/** Why a schedule cannot be used, each at its field (`cron`, `timeZone`), or nothing. */
export function scheduleViolations(schedule: CronSchedule, at = 'schedule'): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (schedule.timeZone && !isTimeZone(schedule.timeZone))
    violations.push({
      field: `${at}.timeZone`,
      description: `"${schedule.timeZone.slice(0, 64)}" is not an IANA time zone (e.g. Europe/Paris)`,
    });
  const cron = schedule.cron.trim();
  if (cron.length > CRON_MAX_LENGTH) {
    violations.push({
      field: `${at}.cron`,
      description: `is ${cron.length} characters; a cron expression has at most ${CRON_MAX_LENGTH}`,
    });
  } else if (cron.split(/\s+/).filter(Boolean).length !== 5) {
    violations.push({
      field: `${at}.cron`,
      description:
        'needs five fields: minute hour day-of-month month day-of-week, e.g. "0 */4 * * *"',
    });
  } else {
    try {
      CronExpressionParser.parse(cron, { tz: 'UTC' });
    } catch (error) {
      violations.push({
        field: `${at}.cron`,
        description: `is not a valid cron expression: ${(error as Error).message}`,
      });
    }
  }
  return violations;
}
