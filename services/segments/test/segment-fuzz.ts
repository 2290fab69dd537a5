import type { JsonObject, JsonValue, MessageInitShape } from '@bufbuild/protobuf';
import {
  Audience,
  RefreshMode,
  type Rule,
  type SegmentDraftSchema,
  SegmentKind,
  type SegmentTemplate,
  TemplateParameterType,
  Visibility,
} from '@shoal/contracts';
import { arbRuleJson, ruleFromJson } from '@shoal/rules/testing';
import type { KnownValues } from '@shoal/testing';
import fc from 'fast-check';
import { productExample, rule } from './segment-client';
import type { Callers } from './segments-for-tests';

/** Members of the fixture's static list. */
const MEMBERS = ['m1', 'm2', 'm3', 'm4', 'm5'];
const SUBJECTS = ['ann', 'bob', 'eve'];
const GROUPS = ['marketing', 'sales'];
const DESTINATIONS = ['dest-1', 'dest-2'];
const TAGS = ['vip', 'q3', 'retention'];

/**
 * Segments of every kind and state for a fuzz run to work on, made through the service: ann's
 * private one, a shared one (marketing edits it, sales may not see it) with history, a shared
 * static list with members, one using both, a draft, a deleted one, one locked by an
 * auto-syncing destination, and one of bob's.
 */
export interface SegmentFixture {
  readonly ids: {
    readonly private: string;
    readonly shared: string;
    readonly list: string;
    readonly using: string;
    readonly draft: string;
    readonly deleted: string;
    readonly locked: string;
    readonly bobs: string;
  };
  /** Each of them: its kind and the version it is at. */
  readonly segments: readonly { id: string; kind: SegmentKind; version: bigint }[];
  readonly names: readonly string[];
  /** Page tokens the service minted: segments, history of the shared one, members of the list. */
  readonly pageTokens: readonly string[];
  readonly templates: readonly SegmentTemplate[];
}

/** Makes a fixture whose names carry `tag`, so that fixtures of one service never collide. */
export async function segmentFixture(c: Callers, tag: string): Promise<SegmentFixture> {
  const name = (what: string) => `${what} ${tag}`;
  const dynamic = { kind: SegmentKind.DYNAMIC } as const;
  const shared = { visibility: Visibility.SHARED, hiddenFrom: { groups: ['sales'] } };
  const editors = { groups: ['marketing'] };
  const made = new Map<string, { id: string; kind: SegmentKind; version: bigint }>();
  const idOf = (answer: {
    segment?: { id: string; kind: SegmentKind; version: bigint } | undefined;
  }) => {
    const { id = '', kind = SegmentKind.UNSPECIFIED, version = 0n } = answer.segment ?? {};
    made.set(id, { id, kind, version });
    return id;
  };

  const privateId = idOf(
    await c.ann.createSegment({
      ...dynamic,
      segment: { name: name('private'), rule: rule(productExample) },
    }),
  );
  const sharedId = idOf(
    await c.ann.createSegment({
      ...dynamic,
      segment: { name: name('shared'), rule: rule(productExample), ...shared, editors },
    }),
  );
  idOf(
    await c.ann.updateSegment({
      id: sharedId,
      expectedVersion: 1n,
      segment: { description: 'edited once' },
      updateMask: { paths: ['description'] },
    }),
  );
  const listId = idOf(
    await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: name('list'), ...shared, editors },
    }),
  );
  await c.ann.addListMembers({ listId, memberIds: MEMBERS });
  const usingId = idOf(
    await c.ann.createSegment({
      ...dynamic,
      segment: {
        name: name('using'),
        ...shared,
        rule: rule({
          condition: { all: { conditions: [{ inSegment: sharedId }, { inList: listId }] } },
        }),
      },
    }),
  );
  const draftId = idOf(
    await c.ann.createSegment({
      ...dynamic,
      draft: true,
      segment: { name: name('draft'), rule: rule(productExample) },
    }),
  );
  const deletedId = idOf(
    await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: name('deleted') },
    }),
  );
  await c.ann.deleteSegment({ id: deletedId, expectedVersion: 1n });
  made.set(deletedId, { id: deletedId, kind: SegmentKind.STATIC_LIST, version: 2n });
  const lockedId = idOf(
    await c.ann.createSegment({
      ...dynamic,
      segment: { name: name('locked'), rule: rule(productExample), ...shared },
    }),
  );
  idOf(
    await c.exporter.setDestinationUsage({
      segmentId: lockedId,
      destinationId: 'dest-1',
      destinationName: 'Nightly webhook',
      autoSync: true,
      inUse: true,
    }),
  );
  const bobsId = idOf(
    await c.bob.createSegment({
      ...dynamic,
      segment: { name: name('bobs'), rule: rule(productExample) },
    }),
  );

  const pageTokens = [
    (await c.ann.listSegments({ page: { pageSize: 1 } })).nextPageToken,
    (await c.ann.getSegmentHistory({ id: sharedId, page: { pageSize: 1 } })).nextPageToken,
    (await c.ann.listListMembers({ listId, page: { pageSize: 1 } })).nextPageToken,
  ];
  return {
    ids: {
      private: privateId,
      shared: sharedId,
      list: listId,
      using: usingId,
      draft: draftId,
      deleted: deletedId,
      locked: lockedId,
      bobs: bobsId,
    },
    segments: [...made.values()],
    names: ['private', 'shared', 'list', 'using', 'draft', 'locked'].map(name),
    pageTokens: pageTokens.filter(Boolean),
    templates: (await c.ann.listTemplates({})).templates,
  };
}

/** Strings worth trying anywhere: the fixture's ids and names, members, people, groups. */
export function fixtureStrings(fixture: SegmentFixture): string[] {
  return [
    ...Object.values(fixture.ids),
    ...fixture.names,
    ...MEMBERS,
    ...SUBJECTS,
    ...GROUPS,
    ...DESTINATIONS,
    ...fixture.templates.map((t) => t.id),
  ];
}

/**
 * Values SegmentService accepts, around which the fuzz harness builds well-formed requests:
 * the fixture's ids at the versions they can be at, valid rules (from the rule language's own
 * generators) that use the fixture's segments and lists, drafts, update masks, page tokens and
 * template parameters.
 */
export function knownValues(fixture: SegmentFixture): KnownValues {
  const ids = Object.values(fixture.ids);
  const id = fc.constantFrom(...ids);
  const listId = fc.oneof({ weight: 3, arbitrary: fc.constant(fixture.ids.list) }, id);
  const version = fc.bigInt({ min: 1n, max: 4n });
  const name = fc.oneof(
    fc.constantFrom(...fixture.names),
    fc.string({ minLength: 1, maxLength: 30 }),
  );
  const validRule = validRules(ids, [fixture.ids.list, fixture.ids.deleted, fixture.ids.shared]);
  const draft = draftOf(name, validRule);
  const drafts = {
    [SegmentKind.DYNAMIC]: draftOf(name, validRule, SegmentKind.DYNAMIC),
    [SegmentKind.STATIC_LIST]: draftOf(name, validRule, SegmentKind.STATIC_LIST),
  };
  const mask = fc.record({
    paths: fc.subarray([...DRAFT_FIELDS, ...OWNER_FIELDS], { minLength: 1 }),
  });
  // a segment at the version it is at, or will be once the run changed it once or twice
  const current = fc.constantFrom(...fixture.segments).chain((segment) =>
    fc.record({
      id: fc.constant(segment.id),
      expectedVersion: fc.oneof(
        { weight: 2, arbitrary: fc.constant(segment.version) },
        { weight: 1, arbitrary: fc.bigInt(segment.version + 1n, segment.version + 2n) },
      ),
      kind: fc.constant(segment.kind),
    }),
  );
  const at = current.map(({ id: segmentId, expectedVersion }) => ({
    id: segmentId,
    expectedVersion,
  }));
  // an edit fit for the kind of segment edited: a list has no rule, a dynamic segment needs one
  const edit = current.chain(({ kind, ...segment }) =>
    fc
      .tuple(
        kind === SegmentKind.STATIC_LIST
          ? drafts[SegmentKind.STATIC_LIST]
          : drafts[SegmentKind.DYNAMIC],
        fc.option(mask, { nil: undefined, freq: 4 }),
      )
      .map(([segmentDraft, updateMask]) => ({ ...segment, segment: segmentDraft, updateMask })),
  );
  const fromTemplate = fc.constantFrom(...fixture.templates).chain((template) =>
    fc.record({
      templateId: fc.constant(template.id),
      parameters: templateParameters(template),
      segment: drafts[SegmentKind.DYNAMIC],
      draft: fc.boolean(),
    }),
  );
  const pageToken = fc.constantFrom(...fixture.pageTokens);
  const pageSize = fc.integer({ min: 1, max: 3 });
  return {
    fields: {
      id,
      segment_id: id,
      list_id: listId,
      expected_version: version,
      version,
      to_version: version,
      member_ids: fc.array(
        fc.oneof(fc.constantFrom(...MEMBERS), fc.string({ minLength: 1, maxLength: 12 })),
        { minLength: 1, maxLength: 8 },
      ),
      destination_id: fc.constantFrom(...DESTINATIONS),
      page_token: pageToken,
      page_size: pageSize,
      'shoal.v1.DuplicateSegmentRequest.name': name,
    },
    messages: {
      'shoal.v1.Rule': validRule,
      'shoal.v1.SegmentDraft': draft,
      'google.protobuf.FieldMask': mask,
      'shoal.v1.CreateSegmentRequest': fc.oneof(
        fc.record({ kind: fc.constant(SegmentKind.DYNAMIC), segment: drafts[SegmentKind.DYNAMIC] }),
        fc.record({
          kind: fc.constant(SegmentKind.STATIC_LIST),
          segment: drafts[SegmentKind.STATIC_LIST],
        }),
      ),
      // the calls that change a segment, at its version
      'shoal.v1.UpdateSegmentRequest': edit,
      'shoal.v1.RenameSegmentRequest': fc
        .tuple(at, name)
        .map(([segment, newName]) => ({ ...segment, name: newName })),
      'shoal.v1.ActivateSegmentRequest': at,
      'shoal.v1.DeactivateSegmentRequest': at,
      'shoal.v1.DeleteSegmentRequest': fc
        .tuple(at, fc.boolean())
        .map(([segment, force]) => ({ ...segment, force })),
      'shoal.v1.RevertSegmentRequest': at.chain((segment) =>
        fc.bigInt(1n, segment.expectedVersion).map((toVersion) => ({ ...segment, toVersion })),
      ),
      'shoal.v1.PurgeSegmentRequest': fc.record({
        id: fc.oneof({ weight: 3, arbitrary: fc.constant(fixture.ids.deleted) }, id),
      }),
      'shoal.v1.CreateSegmentFromTemplateRequest': fromTemplate,
      'shoal.v1.ListSegmentsRequest': fc.oneof(
        // a page token is good only for the query (and caller) that minted it: this one, ann's
        fc.record({ page: fc.record({ pageToken, pageSize }) }),
        fc.record(
          {
            search: fc.constantFrom('fz', 'list', 'shared'),
            kinds: fc.subarray([SegmentKind.DYNAMIC, SegmentKind.STATIC_LIST]),
            visibilities: fc.subarray([Visibility.PRIVATE, Visibility.SHARED]),
            tags: fc.subarray(TAGS, { maxLength: 1 }),
            owners: fc.subarray(SUBJECTS),
            page: fc.record({ pageSize }),
          },
          { requiredKeys: [] },
        ),
      ),
    },
  };
}

/**
 * Drafts with names, tags, refresh policies and who sees and edits them, mostly valid; for a
 * kind: the fields that kind has (a rule for a dynamic segment, none for a list).
 */
function draftOf(
  name: fc.Arbitrary<string>,
  rule: fc.Arbitrary<Rule>,
  kind?: SegmentKind,
): fc.Arbitrary<MessageInitShape<typeof SegmentDraftSchema>> {
  const people = fc.record({ subjects: fc.subarray(SUBJECTS), groups: fc.subarray(GROUPS) });
  const dynamic = {
    rule,
    refresh: fc.constantFrom(
      { mode: RefreshMode.REALTIME },
      { mode: RefreshMode.MANUAL },
      { mode: RefreshMode.SCHEDULED, cron: '0 */4 * * *', timeZone: 'Europe/Berlin' },
    ),
  };
  return fc.record(
    {
      name,
      description: fc.string({ maxLength: 40 }),
      tags: fc.subarray(TAGS),
      // the fixture's segments are of profiles, and a segment's audience cannot change
      audience: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(Audience.UNSPECIFIED, Audience.PROFILES) },
        { weight: 1, arbitrary: fc.constant(Audience.ACCOUNTS) },
      ),
      ...(kind === SegmentKind.STATIC_LIST ? {} : dynamic),
      visibility: fc.constantFrom(Visibility.PRIVATE, Visibility.SHARED),
      hiddenFrom: people,
      editors: people,
    },
    { requiredKeys: kind === SegmentKind.DYNAMIC ? ['name', 'rule'] : ['name'] },
  );
}

const DRAFT_FIELDS = ['name', 'description', 'tags', 'audience', 'rule', 'refresh', 'reentry'];
const OWNER_FIELDS = ['visibility', 'hidden_from', 'hiddenFrom', 'editors'];

const REFERENCES = new Set(['inSegment', 'notInSegment', 'inList', 'notInList']);

/**
 * Valid rules of profiles and of accounts, whose references to segments ("s1", "s2") and lists
 * ("l1", "l2") name the fixture's: real ones, deleted ones, segments where a list belongs, the
 * segment being edited (a cycle).
 */
function validRules(segmentIds: readonly string[], listIds: readonly string[]) {
  const ruleJson = fc.oneof(
    { weight: 3, arbitrary: arbRuleJson({ depth: 2, distinctCap: 3 }) },
    { weight: 1, arbitrary: arbRuleJson({ depth: 1, distinctCap: 3, accounts: true }) },
  );
  return fc
    .tuple(
      ruleJson,
      fc.constantFrom(...segmentIds),
      fc.constantFrom(...segmentIds),
      fc.constantFrom(...listIds),
      fc.constantFrom(...listIds),
    )
    .map(([json, s1, s2, l1, l2]) =>
      ruleFromJson(withReferences(json, { s1, s2, l1, l2 }) as JsonObject),
    );
}

function withReferences(json: JsonValue, to: Readonly<Record<string, string>>): JsonValue {
  if (Array.isArray(json)) return json.map((item) => withReferences(item, to));
  if (json === null || typeof json !== 'object') return json;
  return Object.fromEntries(
    Object.entries(json).map(([key, value]) => [
      key,
      REFERENCES.has(key) && typeof value === 'string'
        ? (to[value] ?? value)
        : withReferences(value, to),
    ]),
  );
}

/** Parameters of a template, of their types, in range or not; some left out. */
function templateParameters(template: SegmentTemplate): fc.Arbitrary<JsonObject> {
  const values = template.parameters.map((p): [string, fc.Arbitrary<JsonValue>] => [
    p.name,
    p.type === TemplateParameterType.STRING
      ? fc.string({ maxLength: 20 })
      : fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: -1, max: 700 }) },
          { weight: 1, arbitrary: fc.double({ min: -10, max: 1e6, noNaN: true }) },
          { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 1e300) },
        ),
  ]);
  return fc
    .record(Object.fromEntries(values), { requiredKeys: [] })
    .map((parameters) => parameters as JsonObject);
}
