import { SegmentKind, Visibility } from '@shoal/contracts';
import { type TestScope, publishSegmentDefinition } from '@shoal/testing';

/**
 * Publishes a segment's definition as the segments service does (the definitions topic is the
 * boundary the exporter reads visibility from).
 */
export async function publishSegment(
  scope: TestScope,
  segment: { id: string; owner: string; shared: boolean; version?: bigint; list?: boolean },
): Promise<void> {
  await publishSegmentDefinition(scope, {
    id: segment.id,
    kind: segment.list ? SegmentKind.STATIC_LIST : SegmentKind.DYNAMIC,
    owner: segment.owner,
    visibility: segment.shared ? Visibility.SHARED : Visibility.PRIVATE,
    version: segment.version ?? 1n,
  });
}
