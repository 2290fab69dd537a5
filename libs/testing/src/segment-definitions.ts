import { type MessageInitShape, create, toBinary } from '@bufbuild/protobuf';
import {
  ContentTypes,
  KafkaHeaders,
  type Segment,
  SegmentKind,
  SegmentSchema,
  SegmentStatus,
  Visibility,
  segmentDefinitionsTopic,
} from '@shoal/contracts';
import type { TestScope } from './test-scope';

/**
 * Publishes a segment definition on the definitions topic as the segments service does: an
 * active, shared, dynamic segment owned by ann, version 1, named after its id, unless `init`
 * says otherwise. For services that read definitions from the topic (the boundary they see).
 */
export async function publishSegmentDefinition(
  scope: TestScope,
  init: Partial<MessageInitShape<typeof SegmentSchema>> & { id: string },
): Promise<Segment> {
  const segment = create(SegmentSchema, {
    name: init.id,
    kind: SegmentKind.DYNAMIC,
    status: SegmentStatus.ACTIVE,
    owner: 'ann',
    visibility: Visibility.SHARED,
    version: 1n,
    ...init,
  } as MessageInitShape<typeof SegmentSchema>);
  await scope.produce(segmentDefinitionsTopic, [
    {
      key: segment.id,
      value: Buffer.from(toBinary(SegmentSchema, segment)),
      headers: { [KafkaHeaders.contentType]: ContentTypes.protobuf },
    },
  ]);
  return segment;
}
