import { type MessageInitShape, create } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import {
  PublicationState,
  type Rule,
  RuleSchema,
  SegmentDraftSchema,
  SegmentKind,
  UsageKind,
  Visibility,
} from '@shoal/contracts';
import { DomainError, ErrorKind, type Principal } from '@shoal/platform';
import { limitsFromConfig } from './segment-limits';
import { nameKey } from './segment-validation';
import type {
  PendingChange,
  PublishFailure,
  SegmentRepositoryPort,
  StoredSegment,
} from './segments.repository';
import { SegmentsService } from './segments.service';

/**
 * The repository port kept in memory, enforcing what the store enforces: one name per owner
 * (case-insensitively) among live segments, and versions that only move forward.
 */
class InMemorySegments implements SegmentRepositoryPort {
  readonly stored = new Map<
    string,
    StoredSegment & { pending: number; failure?: PublishFailure }
  >();
  private readonly versions = new Map<string, PendingChange>();

  private nameTaken(candidate: StoredSegment): boolean {
    const key = nameKey(candidate.segment.name);
    return [...this.stored.values()].some(
      (s) =>
        !s.deleted &&
        !candidate.deleted &&
        s.segment.id !== candidate.segment.id &&
        s.segment.owner === candidate.segment.owner &&
        nameKey(s.segment.name) === key,
    );
  }

  async insert(stored: StoredSegment) {
    if (this.nameTaken(stored)) return false;
    this.stored.set(stored.segment.id, { ...stored, pending: 1 });
    return true;
  }
  async findById(id: string) {
    const found = this.stored.get(id);
    if (!found) return undefined;
    const { pending, failure, ...stored } = found;
    const state =
      pending > 0
        ? PublicationState.PENDING
        : failure
          ? PublicationState.FAILED
          : PublicationState.PUBLISHED;
    return { ...stored, publication: { state, error: failure?.error ?? '' } as never };
  }
  async findByIds(ids: readonly string[]) {
    const found = new Map<string, StoredSegment>();
    for (const id of ids) {
      const stored = await this.findById(id);
      if (stored) found.set(id, stored);
    }
    return found;
  }
  async replace(expectedVersion: number, stored: StoredSegment) {
    const current = this.stored.get(stored.segment.id);
    if (!current || Number(current.segment.version) !== expectedVersion) return 'conflict' as const;
    if (this.nameTaken(stored)) return 'name-taken' as const;
    this.stored.set(stored.segment.id, { ...stored, pending: current.pending + 1 });
    return 'ok' as const;
  }
  async countOwned(owner: string) {
    return [...this.stored.values()].filter((s) => s.segment.owner === owner && !s.deleted).length;
  }
  async findReferencing(id: string) {
    return [...this.stored.values()].filter((s) => !s.deleted && s.references.includes(id));
  }
  async list() {
    return [];
  }
  async saveVersion(change: PendingChange) {
    this.versions.set(`${change.snapshot.id}:${change.version}`, change);
  }
  async findVersion(segmentId: string, version: number) {
    return this.versions.get(`${segmentId}:${version}`);
  }
  async listChanges() {
    return [];
  }
  async withPendingChanges() {
    return [];
  }
  async clearPending(id: string) {
    const found = this.stored.get(id);
    if (found) this.stored.set(id, { ...found, pending: 0, failure: undefined });
  }
  async markPublishFailed(id: string, failure: PublishFailure) {
    const found = this.stored.get(id);
    if (found) this.stored.set(id, { ...found, pending: 0, failure });
  }
  async purge(id: string) {
    this.stored.delete(id);
  }
}

const limits = limitsFromConfig({
  SEGMENTS_PER_OWNER_MAX: 100,
  SEGMENT_NAME_MAX_LENGTH: 200,
  SEGMENT_DESCRIPTION_MAX_LENGTH: 2000,
  SEGMENT_TAGS_MAX: 20,
  RULE_MAX_CONDITIONS: 100,
  RULE_MAX_DEPTH: 8,
  RULE_MAX_SEQUENCE_STEPS: 8,
  RULE_MAX_HISTORY_DAYS: 800,
  RULE_MAX_LIST_VALUES: 1000,
  RULE_MAX_OPERAND_LENGTH: 2048,
  SEGMENT_DEFINITION_MAX_BYTES: 2048,
  STATIC_LIST_MAX_MEMBERS: 100,
});

const user = (subject: string, groups: string[] = []): Principal => ({
  subject,
  groups,
  kind: 'user',
});
const ann = user('ann', ['marketing']);
const bob = user('bob', ['marketing']);
const eve = user('eve', ['sales']);

type Draft = MessageInitShape<typeof SegmentDraftSchema>;
const tagged = (tag: string): Rule =>
  create(RuleSchema, { condition: { kind: { case: 'hasTag', value: tag } } });
const using = (kind: 'inSegment' | 'inList', id: string): Rule =>
  create(RuleSchema, { condition: { kind: { case: kind, value: id } } });

/** The refusal a call ends with. */
async function refusal(call: Promise<unknown>): Promise<DomainError> {
  const outcome = await call.then(
    () => new Error('the call succeeded'),
    (e: unknown) => e,
  );
  if (!(outcome instanceof DomainError)) throw outcome;
  return outcome;
}

function setup() {
  const repository = new InMemorySegments();
  const service = new SegmentsService(
    repository,
    limits,
    { now: () => new Date('2026-12-01T00:00:00Z') },
    { changed: () => undefined },
  );
  const make = async (principal: Principal, draft: Draft, kind = SegmentKind.DYNAMIC) =>
    service.create({
      kind,
      draft: create(
        SegmentDraftSchema,
        kind === SegmentKind.DYNAMIC ? { rule: tagged('x'), ...draft } : draft,
      ),
      asDraft: false,
      principal,
    });
  const update = (
    principal: Principal,
    id: string,
    version: bigint,
    draft: Draft,
    mask: string[],
  ) =>
    service.update({
      id,
      expectedVersion: version,
      draft: create(SegmentDraftSchema, draft),
      mask,
      principal,
    });
  return { repository, service, make, update };
}

describe('segments: who changes a shared segment', () => {
  it('lets its owner and named editors change it, and no one else who sees it', async () => {
    const { make, update } = setup();
    const shared = await make(ann, {
      name: 'Team',
      visibility: Visibility.SHARED,
      editors: { subjects: ['bob'] },
    });
    expect(
      (await refusal(update(eve, shared.id, 1n, { description: 'eve' }, ['description']))).reason,
    ).toBe('SEGMENT_EDITORS_ONLY');
    const { segment } = await update(bob, shared.id, 1n, { description: 'bob' }, ['description']);
    expect(segment).toMatchObject({ description: 'bob', updatedBy: 'bob', version: 2n });
  });

  it.each([
    ['its name', { name: 'Mine now' }, 'name'],
    ['its editors', { editors: { subjects: ['bob', 'eve'] } }, 'editors'],
    ['who it is hidden from', { hiddenFrom: { subjects: ['ann'] } }, 'hidden_from'],
    ['its visibility', { visibility: Visibility.PRIVATE }, 'visibility'],
  ] as const)('keeps %s for its owner to change', async (_what, draft, field) => {
    const { make, update } = setup();
    const shared = await make(ann, {
      name: 'Team',
      visibility: Visibility.SHARED,
      editors: { subjects: ['bob'] },
    });
    const denied = await refusal(update(bob, shared.id, 1n, draft as Draft, [field]));
    expect({ kind: denied.kind, reason: denied.reason }).toEqual({
      kind: ErrorKind.PermissionDenied,
      reason: 'SEGMENT_OWNER_ONLY',
    });
  });

  it('answers an editor’s rename alike whether or not the owner has a segment of that name', async () => {
    const { make, service } = setup();
    await make(ann, { name: 'Secret plans' }, SegmentKind.STATIC_LIST);
    const shared = await make(
      ann,
      { name: 'Open plans', visibility: Visibility.SHARED, editors: { subjects: ['bob'] } },
      SegmentKind.STATIC_LIST,
    );
    const rename = (name: string) =>
      refusal(service.rename({ id: shared.id, expectedVersion: 1n, name, principal: bob }));
    const [taken, free] = [await rename('secret plans'), await rename('Anything else')];
    expect(taken.kind).toBe(ErrorKind.PermissionDenied);
    expect([taken.kind, taken.reason, taken.message]).toEqual([
      free.kind,
      free.reason,
      free.message,
    ]);
  });
});

describe('segments: what a segment may use', () => {
  it('refuses a shared segment using a private one, at the path of the reference', async () => {
    const { make } = setup();
    const mine = await make(ann, { name: 'Mine' });
    const refused = await refusal(
      make(ann, { name: 'Ours', visibility: Visibility.SHARED, rule: using('inSegment', mine.id) }),
    );
    expect(refused.kind).toBe(ErrorKind.InvalidArgument);
    expect(refused.violations.map((v) => v.field)).toEqual(['segment.rule.condition.inSegment']);
    expect(refused.violations[0]?.description).toMatch(/is private/);
  });

  it('refuses an editor pointing a shared segment at their own private list', async () => {
    const { make, update } = setup();
    const shared = await make(ann, {
      name: 'Team',
      visibility: Visibility.SHARED,
      editors: { subjects: ['bob'] },
    });
    const list = await make(bob, { name: 'Bob’s list' }, SegmentKind.STATIC_LIST);
    const refused = await refusal(
      update(bob, shared.id, 1n, { rule: using('inList', list.id) }, ['rule']),
    );
    expect(refused.violations.map((v) => v.field)).toEqual(['segment.rule.condition.inList']);
  });

  it('says a segment the caller cannot see does not exist, as for one that never did', async () => {
    const { make, service } = setup();
    const hidden = await make(eve, { name: 'Eve only' });
    const violations = async (id: string) =>
      (
        await service.ruleViolations({ rule: using('inSegment', id), audience: 0, principal: ann })
      ).map((v) => ({ ...v, description: v.description.replace(id, '<id>') }));
    expect(await violations(hidden.id)).toEqual(await violations('seg_neverexisted00000000'));
  });

  it('names no segment the caller cannot see when refusing a cycle through it', async () => {
    const { make, update, repository } = setup();
    const target = await make(ann, { name: 'Target', visibility: Visibility.SHARED });
    const middle = await make(ann, { name: 'Middle', visibility: Visibility.SHARED });
    const unseen = await make(eve, { name: 'Eve’s', rule: using('inSegment', target.id) });
    // stored before shared segments had to use only what their viewers see
    const stored = repository.stored.get(middle.id)!;
    repository.stored.set(middle.id, {
      ...stored,
      segment: { ...stored.segment, rule: using('inSegment', unseen.id) },
      references: [unseen.id],
    });
    const refused = await refusal(
      update(ann, target.id, 1n, { rule: using('inSegment', middle.id) }, ['rule']),
    );
    expect(refused.violations[0]?.description).toMatch(/cycle/);
    expect(refused.message).not.toContain(unseen.id);
  });

  it('refuses hiding a segment from people who see a segment using it, listing those', async () => {
    const { make, update, service } = setup();
    const base = await make(ann, { name: 'Base', visibility: Visibility.SHARED });
    const user = await make(bob, {
      name: 'Uses base',
      visibility: Visibility.SHARED,
      rule: using('inSegment', base.id),
    });
    const privately = await make(eve, { name: 'Eve uses base', rule: using('inSegment', base.id) });
    const refused = await refusal(
      update(ann, base.id, 1n, { visibility: Visibility.PRIVATE }, ['visibility']),
    );
    expect(refused.kind).toBe(ErrorKind.FailedPrecondition);
    expect(refused.message).toContain(user.id);
    expect(refused.message).toContain('1 segment you cannot see');
    expect(refused.message).not.toContain(privately.id);
    // usages count what the caller cannot see, and tell nothing about it
    expect(
      (await service.usages(base.id, ann)).map((u) => ({ kind: u.kind, id: u.id, name: u.name })),
    ).toEqual([
      { kind: UsageKind.SEGMENT, id: user.id, name: 'Uses base' },
      { kind: UsageKind.SEGMENT, id: '', name: '' },
    ]);
  });
});

describe('segments: definitions that could not be published are refused', () => {
  it('refuses a NaN operand as invalid, with its path', async () => {
    const { make } = setup();
    const rule = create(RuleSchema, {
      condition: {
        kind: {
          case: 'trait',
          value: {
            path: 'score',
            operator: {
              case: 'equals',
              value: create(ValueSchema, { kind: { case: 'numberValue', value: Number.NaN } }),
            },
          },
        },
      },
    });
    const refused = await refusal(make(ann, { name: 'NaN', rule }));
    expect(refused.kind).toBe(ErrorKind.InvalidArgument);
    expect(refused.violations.map((v) => v.field)).toEqual(['segment.rule.condition.trait.equals']);
  });

  it('refuses a definition larger than SEGMENT_DEFINITION_MAX_BYTES as a whole', async () => {
    const { make } = setup();
    const refused = await refusal(
      make(
        ann,
        {
          name: 'Wordy',
          description: 'w'.repeat(2000),
          tags: Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(64, 't')),
        },
        SegmentKind.STATIC_LIST,
      ),
    );
    expect(refused.violations).toEqual([
      {
        field: 'segment',
        description: expect.stringContaining('SEGMENT_DEFINITION_MAX_BYTES is 2048'),
      },
    ]);
  });

  it('tells where publishing stands', async () => {
    const { make, service, repository } = setup();
    const segment = await make(ann, { name: 'Published soon' });
    expect(segment.publication?.state).toBe(PublicationState.PENDING);
    await repository.markPublishFailed(segment.id, { version: 1, error: 'too large', atMs: 0 });
    expect((await service.get(segment.id, ann)).publication).toMatchObject({
      state: PublicationState.FAILED,
      error: 'too large',
    });
  });
});
