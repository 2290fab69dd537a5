import { fromBinary, fromJson, type JsonValue } from '@bufbuild/protobuf';
import {
  type Rule,
  RuleSchema,
  SegmentSchema,
  SegmentService,
  segmentDefinitionsTopic,
} from '@shoal/contracts';
import { GrpcCallError, type RunningService } from '@shoal/platform';
import { PRODUCT_EXAMPLES } from '@shoal/rules/testing';
import type { TestScope } from '@shoal/testing';

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
export async function refusal(call: Promise<unknown>): Promise<GrpcCallError> {
  const outcome = await call.then(
    () => new Error('the call succeeded'),
    (e: unknown) => e,
  );
  if (!(outcome instanceof GrpcCallError)) throw outcome;
  return outcome;
}

/** Every definition record published so far, in partition order: null segment for a tombstone. */
export async function publishedDefinitions(scope: TestScope) {
  const records = await scope.readTopicToEnd(segmentDefinitionsTopic);
  return records.map((r) => ({
    key: r.key?.toString() ?? '',
    segment: r.value ? fromBinary(SegmentSchema, r.value) : null,
  }));
}
