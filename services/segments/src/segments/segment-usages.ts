import { create } from '@bufbuild/protobuf';
import { type Segment, type SegmentUsage, SegmentUsageSchema, UsageKind } from '@shoal/contracts';
import type { Principal } from '@shoal/platform';
import { canSee } from './access';
import type { DestinationUse } from './segments.repository.port';

/** A segment using another: one the caller cannot see counts, but nothing about it is told. */
export function segmentUsage(segment: Segment, principal: Principal): SegmentUsage {
  return create(
    SegmentUsageSchema,
    canSee(segment, principal)
      ? { kind: UsageKind.SEGMENT, id: segment.id, name: segment.name }
      : { kind: UsageKind.SEGMENT },
  );
}

export function destinationUsage({ id, name, autoSync }: DestinationUse): SegmentUsage {
  return create(SegmentUsageSchema, { kind: UsageKind.DESTINATION, id, name, autoSync });
}

/** Usages in a message: segments the caller sees by name, the others only counted. */
export function describeUsages(usages: readonly SegmentUsage[]): string {
  const named = usages
    .filter((u) => u.id !== '')
    .map(
      (u) =>
        `${u.kind === UsageKind.SEGMENT ? 'segment' : 'destination'} ${u.name ? `"${u.name}" (${u.id})` : u.id}`,
    );
  const unseen = usages.length - named.length;
  if (unseen > 0) named.push(`${unseen} segment${unseen === 1 ? '' : 's'} you cannot see`);
  return named.join(', ');
}
