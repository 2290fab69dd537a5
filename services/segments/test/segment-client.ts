import { fromBinary, fromJson, type JsonValue } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  type Rule,
  RuleSchema,
  SegmentSchema,
  SegmentService,
  segmentDefinitionsTopic,
} from '@shoal/contracts';
import { GrpcCallError, type RunningService } from '@shoal/platform';
import { PRODUCT_EXAMPLES } from '@shoal/rules/testing';
import { type TestScope, refusalOf } from '@shoal/testing';

/** SegmentService clients for several callers of one running service. */
export async function callers(scope: TestScope, service: RunningService) {
  const as = async (subject: string, groups: string[] = []) =>
    scope.client(SegmentService, service, await scope.token({ subject, groups }));
  return {
    ann: await as('ann', ['marketing']),
    bob: await as('bob', ['marketing']),
    eve: await as('eve', ['sales']),
    exporter: scope.client(
      SegmentService,
      service,
      await scope.token({ subject: 'service:exporter', service: 'exporter' }),
    ),
  };
}

export const rule = (json: JsonValue): Rule => fromJson(RuleSchema, json);

/** The product documents' first example (made more than one purchase, has not visited in 40 days, ...). */
export const productExample: JsonValue = PRODUCT_EXAMPLES.loyalButLapsed.json;

/** The rejection of a call, for asserting its status, reason and field paths. */
export function refusal(call: Promise<unknown>): Promise<GrpcCallError> {
  return refusalOf(call, GrpcCallError);
}

/** Every definition record published so far, in partition order: null segment for a tombstone. */
export async function publishedDefinitions(scope: TestScope) {
  const records = await scope.readTopicToEnd(segmentDefinitionsTopic);
  return records.map((r) => ({
    key: r.key?.toString() ?? '',
    segment: r.value ? fromBinary(SegmentSchema, r.value) : null,
  }));
}

/**
 * Keeps the definitions relay from publishing, as another replica holding its lease would, until
 * the returned function hands the lease back: changes made meanwhile are pending together. Call
 * it before the service starts (a running relay keeps renewing its lease).
 */
export async function holdDefinitionsRelay(scope: TestScope): Promise<() => Promise<void>> {
  const leases = (await scope.mongo())
    .db(`t${scope.id}_segments`)
    .collection<{ _id: string; holder: string; expiresAtMs: number }>('leases');
  const lease = { _id: 'segment-definitions-relay', holder: 'test' };
  await leases.insertOne({ ...lease, expiresAtMs: Date.now() + 120_000 });
  return async () => {
    await leases.deleteOne(lease);
  };
}

/**
 * Sends bytes as they are to a SegmentService method, for requests the typed client cannot
 * encode (e.g. nested deeper than protobuf-es writes).
 */
export async function rawCall(
  scope: TestScope,
  service: RunningService,
  method: string,
  bytes: Uint8Array,
  subject = 'ann',
): Promise<GrpcCallError | 'ok'> {
  const channel = new grpc.Client(
    `127.0.0.1:${service.grpcPort}`,
    grpc.credentials.createInsecure(),
  );
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${await scope.token({ subject })}`);
  try {
    return await new Promise((resolve) =>
      channel.makeUnaryRequest(
        `/${SegmentService.typeName}/${method}`,
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        bytes,
        metadata,
        { deadline: new Date(Date.now() + 10_000) },
        (error) => resolve(error ? GrpcCallError.from(error) : 'ok'),
      ),
    );
  } finally {
    channel.close();
  }
}

/** Protobuf wire bytes of a length-delimited field. */
export function lengthDelimited(fieldNumber: number, payload: Uint8Array): Uint8Array {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 127) | 128);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  return Buffer.concat([
    Buffer.from(varint((fieldNumber << 3) | 2)),
    Buffer.from(varint(payload.length)),
    payload,
  ]);
}
