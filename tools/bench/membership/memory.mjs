#!/usr/bin/env node --expose-gc
// Membership's memory per profile (not a test): run with
//   node --expose-gc tools/bench/membership/memory.mjs --profiles 100000 --events 100000 --segments 100
// after `npm run build`. Builds one partition's working set in process from the system bench's own
// workload (tools/bench/src/system/workload.ts: its segments and its seeded Zipf stream, turned
// into profile changes as ingestion would), forces GC, and prints the heap bytes per profile, then
// what each part of a profile's state costs: each part in turn is dropped from every profile
// (replaced by the smallest value of its kind) and the heap measured again.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const require = createRequire(join(root, 'package.json'));
const { create, fromJson } = require('@bufbuild/protobuf');
const { ValueSchema, timestampFromMs } = require('@bufbuild/protobuf/wkt');
const contracts = require('@shoal/contracts');
const membership = join(root, 'services/membership/dist/evaluation');
const { DEFAULT_WORKING_SET_OPTIONS, PartitionWorkingSet } = require(
  join(membership, 'working-set.js'),
);
const { SegmentCatalogue } = require(join(membership, 'segment-catalogue.js'));
const workload = require(join(root, 'tools/bench/dist/system/workload.js'));

const { values } = parseArgs({
  options: {
    profiles: { type: 'string', default: '100000' },
    events: { type: 'string', default: '100000' },
    segments: { type: 'string', default: '100' },
    zipf: { type: 'string', default: '1' },
    seed: { type: 'string', default: '42' },
    // events a second the stream is spread over (the recent-change window is time-based)
    rate: { type: 'string', default: '2000' },
    // live subjects kept (the working set's hotProfiles); "all" keeps every one live
    hot: { type: 'string', default: 'default' },
    'no-breakdown': { type: 'boolean', default: false },
  },
});
const PROFILES = Number(values.profiles);
const EVENTS = Number(values.events);
const SEGMENTS = Number(values.segments);
const RATE = Number(values.rate);

if (typeof globalThis.gc !== 'function') {
  process.stderr.write('run with node --expose-gc\n');
  process.exit(2);
}
const log = (line) => process.stderr.write(`[memory] ${line}\n`);

function heap() {
  for (let i = 0; i < 3; i += 1) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

const changeId = (source, subject, kind) =>
  createHash('sha256').update(`${source}\n${subject}\n${kind}`).digest('base64url').slice(0, 22);

// ---- the catalogue: the bench's segments, as the segments service would define them ---------

const ids = new Map([['vipList', 'seg_vip_list']]);
const plans = workload.segmentPlans(SEGMENTS);
for (const plan of plans) ids.set(plan.key, `seg_${plan.key}`);
const definitions = [
  create(contracts.SegmentSchema, {
    id: 'seg_vip_list',
    kind: contracts.SegmentKind.STATIC_LIST,
    version: 1n,
  }),
  ...plans.map((plan) =>
    create(contracts.SegmentSchema, {
      id: ids.get(plan.key),
      kind: contracts.SegmentKind.DYNAMIC,
      version: 1n,
      rule: fromJson(contracts.RuleSchema, workload.resolveReferences(plan.rule, ids)),
      refresh: {
        mode: plan.scheduled ? contracts.RefreshMode.SCHEDULED : contracts.RefreshMode.REALTIME,
      },
    }),
  ),
];

const start = Date.now();
const before = heap();
const hotProfiles =
  values.hot === 'default'
    ? DEFAULT_WORKING_SET_OPTIONS.hotProfiles
    : values.hot === 'all'
      ? Number.POSITIVE_INFINITY
      : Number(values.hot);
const ws = new PartitionWorkingSet({
  catalogue: SegmentCatalogue.empty(),
  options: { ...DEFAULT_WORKING_SET_OPTIONS, hotProfiles },
});
ws.setCatalogue({
  catalogue: SegmentCatalogue.build({ definitions }),
  now: start,
  backfill: ws.startBackfill([]),
});

// ---- the stream, as profile changes ------------------------------------------------------------

const stream = new workload.EventStream(
  PROFILES,
  Number(values.zipf),
  Number(values.seed),
  () => start,
);
let transitions = 0;
const began = Date.now();
const cpuBefore = process.cpuUsage();
for (let i = 0; i < EVENTS; i += 1) {
  const upstream = JSON.parse(stream.event().value);
  const profileId = `user:${upstream.userId}`;
  const occurredAt = Date.parse(upstream.timestamp);
  const now = start + Math.floor((i * 1000) / RATE);
  const kind = upstream.type === 'identify' ? 'traits' : 'event';
  const change = create(contracts.ProfileChangeSchema, {
    id: changeId(upstream.messageId, profileId, kind),
    subjectId: profileId,
    profileId,
    sourceId: upstream.messageId,
    occurredAt: timestampFromMs(occurredAt),
    recordedAt: timestampFromMs(now),
    change:
      upstream.type === 'identify'
        ? {
            case: 'traitsChanged',
            value: {
              changes: Object.entries(upstream.traits).map(([key, value]) => ({
                key,
                value: fromJson(ValueSchema, value),
              })),
            },
          }
        : {
            case: 'eventRecorded',
            value: { name: upstream.event, properties: upstream.properties },
          },
  });
  transitions += ws.applyProfileChange({ change, offset: i, now }).length;
  transitions += ws.fireTimers(now).length;
  // the runtime checkpoints every batch: what it holds for the write is let go then
  if (i % 1000 === 999) ws.takeCheckpoint();
}
ws.takeCheckpoint();
ws.takeContactOutput();
const cpu = process.cpuUsage(cpuBefore);
const profiles = ws.profiles.size;
const total = heap() - before;
log(
  `${EVENTS} events over ${PROFILES} profiles applied in ${((Date.now() - began) / 1000).toFixed(1)} s`,
);

const KiB = (bytes) => (bytes / 1024).toFixed(2);
const per = (bytes) => bytes / profiles;
const rows = [];
const lines = [
  `# Membership working set: ${profiles} profiles (${PROFILES} in the stream), ${EVENTS} events, ${plans.length} segments`,
  '',
  `hot profiles ${hotProfiles} (${ws.profiles.liveCount} live, the others packed); node ${process.version}; ${transitions} transitions; applying them took ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU-s; heap after the run minus before: ${(total / 2 ** 20).toFixed(1)} MiB`,
  `**${KiB(per(total))} KiB per profile** (${Math.round(per(total))} bytes)`,
  '',
];

if (ws.profiles.liveCount === profiles) {
  // what the same profiles cost held as their stored form (one JSON string each)
  const json = new Map(
    [...ws.profiles.values()].map((profile) => [profile.id, JSON.stringify(profile)]),
  );
  let chars = 0;
  for (const text of json.values()) chars += text.length;
  const held = heap() - before;
  lines.push(
    `as JSON strings beside the objects: +${KiB(per(held - total))} KiB per profile (${Math.round(chars / profiles)} characters on average)`,
    '',
  );
  const zlib = require('node:zlib');
  const dictionary = Buffer.from(
    '{"seq":1,"member":false,"since":"everEntered":true,"lastExitAt":"value":' +
      '"state":{"traits":{},"tags":[],"lists":[],"segments":{},"aggregates":{},"recency":{},"sequences":{}},' +
      '"listSequences":{},"pairs":{},"offsets":{"changes":-1,"lists":-1},"recentChanges":[],"recentAt":' +
      '"tail":[],"chunks":[],"pendingMerges":[],"nextAt":"incarnation":"id":"user:',
  );
  for (const level of [1, 6]) {
    for (const dict of [false, true]) {
      let bytes = 0;
      const t0 = process.hrtime.bigint();
      const packed = [];
      for (const text of json.values()) {
        const z = zlib.deflateRawSync(text, dict ? { level, dictionary } : { level });
        bytes += z.length;
        packed.push(z);
      }
      const t1 = process.hrtime.bigint();
      for (const z of packed) zlib.inflateRawSync(z, dict ? { dictionary } : {}).toString();
      const t2 = process.hrtime.bigint();
      lines.push(
        `deflate level ${level}${dict ? ' with dictionary' : ''}: ${Math.round(bytes / profiles)} bytes on average, ${(Number(t1 - t0) / 1000 / profiles).toFixed(1)} µs to pack, ${(Number(t2 - t1) / 1000 / profiles).toFixed(1)} µs to unpack`,
      );
    }
  }
  lines.push('');
  json.clear();
}

if (!values['no-breakdown'] && ws.profiles.liveCount === profiles) {
  const priv = ws;
  const parts = [
    ['unsealed history tail', (p) => void (p.tail = [])],
    ['recentChanges (+ recentAt)', (p) => void ((p.recentChanges = []), delete p.recentAt)],
    ['chunk refs', (p) => void (p.chunks = [])],
    ['pair states', (p) => void (p.pairs = {})],
    ['state.aggregates', (p) => void (p.state = { ...p.state, aggregates: {} })],
    ['state.recency', (p) => void (p.state = { ...p.state, recency: {} })],
    ['state.sequences', (p) => void (p.state = { ...p.state, sequences: {} })],
    ['state.segments', (p) => void (p.state = { ...p.state, segments: {} })],
    ['state.traits', (p) => void (p.state = { ...p.state, traits: {} })],
    ['state.tags + lists', (p) => void (p.state = { ...p.state, tags: [], lists: [] })],
  ];
  let last = heap();
  for (const [name, drop] of parts) {
    for (const profile of ws.profiles.values()) drop(profile);
    const now = heap();
    rows.push([name, last - now]);
    last = now;
  }
  const sides = [
    ['member index (segment → member sets)', () => priv.members.clear()],
    ['timer queue', () => (priv.timers.heap ?? []).splice(0)],
    ['segment last-evaluated', () => priv.lastEvaluated.clear()],
  ];
  for (const [name, drop] of sides) {
    drop();
    const now = heap();
    rows.push([name, last - now]);
    last = now;
  }
  const shared = {};
  for (const profile of ws.profiles.values()) {
    profile.state = shared;
  }
  let now = heap();
  rows.push(['the rest of the EvaluationState object', last - now]);
  last = now;
  for (const id of [...ws.profiles.ids()]) ws.profiles.delete(id);
  now = heap();
  rows.push(['ProfileState shell, ids, offsets, Map entry', last - now]);
  last = now;
  lines.push('| part | bytes per profile | share |', '|---|---:|---:|');
  for (const [name, bytes] of rows)
    lines.push(`| ${name} | ${Math.round(per(bytes))} | ${((100 * bytes) / total).toFixed(1)}% |`);
  lines.push(`| (catalogue and what remains) | ${Math.round(per(last - before))} | |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
