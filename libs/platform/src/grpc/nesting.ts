import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** How deep protobuf-es decodes messages (the request itself is depth 1); deeper is refused. */
export const DECODE_DEPTH_LIMIT = 100;

type Frame =
  | { kind: 'message'; desc: DescMessage; end: number; path: string; depth: number; seen: number[] }
  | {
      kind: 'entry';
      field: DescField & { fieldKind: 'map' };
      end: number;
      path: string;
      depth: number;
      key?: string;
    };

/**
 * The JSON-form path of the first message nested deeper than `limit` in the encoded `bytes` of
 * a `desc` message, e.g. "segment.rule.condition.all.conditions[0]"; undefined when nothing is
 * (or the bytes are malformed: decoding says so). Reads the wire format without recursion, so
 * that a request nested thousands deep can be refused with a path instead of exhausting the
 * stack or failing without one.
 */
export function pathNestedTooDeep(
  desc: DescMessage,
  bytes: Uint8Array,
  limit = DECODE_DEPTH_LIMIT,
): string | undefined {
  const reader = new BinaryReader(bytes);
  const frames: Frame[] = [
    { kind: 'message', desc, end: bytes.byteLength, path: '', depth: 1, seen: [] },
  ];
  try {
    for (let frame = frames.at(-1); frame !== undefined; frame = frames.at(-1)) {
      if (reader.pos >= frame.end) {
        frames.pop();
        continue;
      }
      const [number, wireType] = reader.tag();
      const child = childOf(frame, number, wireType, reader);
      if (child === 'read') continue;
      if (child === undefined) {
        reader.skip(wireType, number);
        continue;
      }
      if (child.depth > limit) return child.path;
      frames.push(child);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * The frame a length-delimited field opens (a nested message or a map entry); 'read' when the
 * field was consumed here (a map entry's string key); undefined when it is to be skipped.
 */
function childOf(
  frame: Frame,
  number: number,
  wireType: WireType,
  reader: BinaryReader,
): Frame | 'read' | undefined {
  if (wireType !== WireType.LengthDelimited) return undefined;
  if (frame.kind === 'entry') {
    const { field } = frame;
    if (number === 1 && field.mapKey === ScalarType.STRING) {
      frame.key = reader.string();
      return 'read';
    }
    if (number !== 2 || field.mapKind !== 'message') return undefined;
    const end = reader.uint32() + reader.pos;
    const key = frame.key === undefined ? '' : JSON.stringify(frame.key);
    return {
      kind: 'message',
      desc: field.message,
      end,
      path: `${frame.path}[${key}]`,
      depth: frame.depth + 1,
      seen: [],
    };
  }
  const field = frame.desc.fields.find((f) => f.number === number);
  if (field === undefined) return undefined;
  const name = frame.path === '' ? field.jsonName : `${frame.path}.${field.jsonName}`;
  if (field.fieldKind === 'map') {
    if (field.mapKind !== 'message') return undefined;
    const end = reader.uint32() + reader.pos;
    return { kind: 'entry', field, end, path: name, depth: frame.depth };
  }
  const message =
    field.fieldKind === 'message'
      ? field.message
      : field.fieldKind === 'list' && field.listKind === 'message'
        ? field.message
        : undefined;
  if (message === undefined) return undefined;
  const end = reader.uint32() + reader.pos;
  let path = name;
  if (field.fieldKind === 'list') {
    const index = frame.seen[number] ?? 0;
    frame.seen[number] = index + 1;
    path = `${name}[${index}]`;
  }
  return { kind: 'message', desc: message, end, path, depth: frame.depth + 1, seen: [] };
}
