import { createHash } from 'node:crypto';
import { type JsonObject, type JsonValue, fromJson } from '@bufbuild/protobuf';
import { type Rule, RuleSchema, type UpstreamEvent, UpstreamEventSchema } from '@shoal/contracts';

/** Input the command line reads that is not what it should be, with where it is wrong. */
export class InputError extends Error {}

/** A rule file: the rule's JSON form (docs/rules.md). */
export function parseRuleFile(text: string, file: string): Rule {
  const json = parseJson(text, file);
  try {
    return fromJson(RuleSchema, json);
  } catch (error) {
    throw new InputError(`${file} is not a rule: ${(error as Error).message}`);
  }
}

/** Segment-spec fields that map onto UpstreamEvent's payload, by event type. */
const PAYLOAD_FIELDS: Readonly<Record<string, readonly string[]>> = {
  track: ['event', 'properties'],
  identify: ['traits'],
  group: ['groupId', 'traits'],
  alias: ['previousId'],
  page: ['name', 'category', 'properties'],
  screen: ['name', 'category', 'properties'],
};
const ENVELOPE_FIELDS = [
  'messageId',
  'userId',
  'anonymousId',
  'timestamp',
  'sentAt',
  'receivedAt',
  'context',
];

/**
 * One line of an NDJSON file: a Segment-spec message (`{"type": "track", "event": …}`, what
 * upstream systems send to the upstream topic) or an UpstreamEvent in its protobuf JSON form.
 */
export function parseUpstreamEvent(line: string, where: string): UpstreamEvent {
  const json = parseJson(line, where);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InputError(`${where}: an event is a JSON object`);
  }
  const type = json.type;
  let protoJson: JsonObject = json;
  if (type !== undefined) {
    const payloadFields = typeof type === 'string' ? PAYLOAD_FIELDS[type] : undefined;
    if (!payloadFields) {
      throw new InputError(
        `${where}: type ${JSON.stringify(type)} is not one of ${Object.keys(PAYLOAD_FIELDS).join(', ')}`,
      );
    }
    protoJson = Object.fromEntries(
      ENVELOPE_FIELDS.filter((f) => json[f] !== undefined).map((f) => [f, json[f] as JsonValue]),
    );
    protoJson[type as string] = Object.fromEntries(
      payloadFields.filter((f) => json[f] !== undefined).map((f) => [f, json[f] as JsonValue]),
    );
  }
  try {
    return fromJson(UpstreamEventSchema, protoJson);
  } catch (error) {
    throw new InputError(`${where}: ${(error as Error).message}`);
  }
}

/** How many unreadable lines of an events file are listed before "and N more". */
const LISTED_BAD_LINES = 20;

/**
 * An NDJSON events file, every line read before anything is sent: a file with unreadable lines
 * is refused whole, listing each of them (the first 20) with its line number, so it can be fixed
 * and sent again, not sent in part. Blank lines are skipped; `lines` gives each event's line.
 *
 * An event without a messageId is given one made from its line — the text and how many times
 * the same text came before it in the file — so sending a file again (after a failure, or with
 * lines added anywhere) counts none of its events twice, while two identical lines stay two
 * events. `named` is how many were given one.
 */
export function parseEventsFile(
  text: string,
  file: string,
): { events: UpstreamEvent[]; lines: number[]; named: number } {
  const events: UpstreamEvent[] = [];
  const lines: number[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  let named = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line.length === 0) return;
    const occurrence = seen.get(line) ?? 0;
    seen.set(line, occurrence + 1);
    try {
      const event = parseUpstreamEvent(line, `${file}:${index + 1}`);
      if (!event.messageId) {
        event.messageId = lineMessageId(line, occurrence);
        named += 1;
      }
      events.push(event);
      lines.push(index + 1);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push(error.message);
    }
  });
  if (problems.length > 0) {
    const listed = problems.slice(0, LISTED_BAD_LINES).map((problem) => `  ${problem}`);
    const more = problems.length - listed.length;
    throw new InputError(
      [
        `${problems.length} of the ${problems.length + events.length} lines of ${file} are not events; nothing was sent`,
        ...listed,
        ...(more > 0 ? [`  and ${more} more`] : []),
      ].join('\n'),
    );
  }
  return { events, lines, named };
}

/** The messageId of the `occurrence`-th (from 0) line of this text in an events file. */
export function lineMessageId(line: string, occurrence: number): string {
  const digest = createHash('sha256').update(`${occurrence}\n${line}`).digest('hex');
  return `cli-${digest.slice(0, 32)}`;
}

/** Member ids from a CSV file: the first column of each row; a header row (`id`, …) is skipped. */
export function parseIdsCsv(text: string): string[] {
  const ids = text
    .split(/\r?\n/)
    .map((line) => firstCell(line).trim())
    .filter(Boolean);
  return ids.length > 0 && /^(profile_?id|member_?id|id)$/i.test(ids[0]) ? ids.slice(1) : ids;
}

function firstCell(line: string): string {
  if (!line.startsWith('"')) return line.split(',')[0];
  const end = line.indexOf('"', 1);
  return end < 0 ? line.slice(1) : line.slice(1, end);
}

function parseJson(text: string, where: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new InputError(`${where} is not JSON: ${(error as Error).message}`);
  }
}
