import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, relative } from 'node:path';
import * as prettier from 'prettier';
import type { Results } from './main';
import { PROBE_HOPS } from './measures';
import { REPO_ROOT } from './stack';

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  java: string;
  kafka?: string;
  store?: string;
  commit: string;
}

export function machine(): Machine {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    java: (java.stderr || java.stdout).split('\n')[0]?.trim() ?? 'unknown',
    commit: git.stdout.trim(),
  };
}

export const BEGIN = '<!-- bench:begin (written by npm run bench; edit outside the markers) -->';
export const END = '<!-- bench:end -->';

type Verdict = 'pass' | 'miss' | 'not run';

const verdict = (ok: boolean | undefined): Verdict =>
  ok === undefined ? 'not run' : ok ? 'pass' : 'miss';
const n = (value: number | undefined, unit = ''): string =>
  value === undefined || Number.isNaN(value) ? '—' : `${value.toLocaleString('en-US')}${unit}`;
const loads = (values: readonly number[] | undefined) =>
  (values ?? []).map((l) => l.toFixed(1)).join(' → ');

/** The figures of a run as markdown: machine, sizes, each target with pass / miss, the details. */
export function renderReport(r: Results, jsonPath: string): string {
  const lines: string[] = [];
  const m = r.machine;
  const push = (...more: string[]) => lines.push(...more);
  push(
    `Run ${r.startedAt} → ${r.finishedAt ?? '?'} at commit \`${m.commit}\`; raw figures in [\`${jsonPath}\`](${jsonPath.replace(/^docs\//, '')}).`,
    '',
    `- Machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB; shared with other engineers' builds and tests.`,
    `- Load average (1, 5, 15 min) before: ${r.loadBefore.join(', ')}; after: ${(r.loadAfter ?? []).join(', ')}.`,
    `- Node ${m.node}; ${m.java}; Kafka: ${m.kafka ?? '?'}; store: ${m.store ?? '?'}.`,
    `- Sizes: ${Object.entries(r.sizes)
      .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
      .join(', ')}; Zipf exponent ${r.options.zipf}; seed ${r.options.seed}.`,
    `- Command: \`npm run bench -- ${commandLine(r)}\``,
    '',
  );
  if (r.errors.length > 0) push(`**The run failed:** ${r.errors.join('; ')}`, '');

  const e2e = r.endToEnd;
  const lat = r.latency;
  const timers = r.timers;
  const q = r.queries;
  const atRate = q?.isMemberAtRate;
  const floor = q?.floor;
  const refresh = r.refresh;
  push(
    '| # | measure | figure | target | verdict | load (1 min) |',
    '| - | ------- | ------ | ------ | ------- | ------------ |',
    `| a | kafkajs pass-through (consume → produce) | ${n(r.passThrough?.mean, ' records/s')} (${(r.passThrough?.recordsPerSecond ?? []).join(' / ')}) | the ceiling | — | ${loads(r.passThrough?.load)} |`,
    `| b | end to end, ingestion + membership, until the last transition is published | ${n(e2e?.eventsPerSecond, ' events/s')} = ${e2e ? (e2e.ratio * 100).toFixed(1) : '—'}% of (a) | ≥ 25% of (a) | ${verdict(e2e ? e2e.ratio >= 0.25 : undefined)} | ${loads(e2e?.load)} |`,
    `| c | event produced → \`segment.entered\` consumed, at ${n(lat?.offeredRate)} events/s offered (${n(lat?.achievedRate)} sent)${lat?.warmupSeconds ? `, after ${lat.warmupSeconds} s at that rate` : ''} | p50 ${n(lat?.latencyMs['p50'])} ms, p95 ${n(lat?.latencyMs['p95'])} ms, p99 ${n(lat?.latencyMs['p99'])} ms, p99.99 ${n(lat?.latencyMs['p99.99'])} ms (${n(lat?.entered)} of ${n(lat?.probes)} probes) | p99 < 250 ms, p99.99 < 1 s | ${verdict(lat ? (lat.latencyMs['p99'] ?? Infinity) < 250 && (lat.latencyMs['p99.99'] ?? Infinity) < 1_000 && lat.entered === lat.probes : undefined)} | ${loads(lat?.load)} |`,
    `| d | time-driven exits, consumed after their due instant | p50 ${n(timers?.latenessMs['p50'])} ms, p99 ${n(timers?.latenessMs['p99'])} ms, max ${n(timers?.latenessMs['p100'])} ms (${n(timers?.exited)} of ${n(timers?.profiles)}) | within 1 s | ${verdict(timers ? (timers.latenessMs['p100'] ?? Infinity) <= 1_000 && timers.exited === timers.profiles : undefined)} | ${n(timers?.load)} |`,
    `| e | IsMember (${q?.segmentsPerIsMember ?? '?'} segments), ${r.options.concurrency} concurrent callers | ${n(q?.isMember.qps, ' QPS')}, p99 ${n(q?.isMember.latencyMs['p99'])} ms; ${n(q?.isMember.serviceCpuMsPerCall)} CPU-ms per call in the service, ${n(q?.isMember.benchCpuMsPerCall)} in the caller | — | — | ${n(q?.isMember.load)} |`,
    `| e | GetProfileSegments, ${r.options.concurrency} concurrent callers | ${n(q?.getProfileSegments.qps, ' QPS')}, p99 ${n(q?.getProfileSegments.latencyMs['p99'])} ms; ${n(q?.getProfileSegments.serviceCpuMsPerCall)} CPU-ms per call in the service | — | — | ${n(q?.getProfileSegments.load)} |`,
    `| e | IsMember at a fixed offered rate of ${n(atRate?.offered, ' QPS')} | ${n(atRate?.qps, ' QPS')} answered, p50 ${n(atRate?.latencyMs['p50'])} ms, p99 ${n(atRate?.latencyMs['p99'])} ms, ${n(atRate?.errors)} errors | p99 < 5 ms at 5,000 QPS | ${verdict(atRate ? atRate.offered >= 5_000 && (atRate.latencyMs['p99'] ?? Infinity) < 5 : undefined)} | ${n(atRate?.load)} |`,
    `| e | the floor: the same IsMember loads against a gRPC server that only answers (same grpc-js, own process) | ${n(floor?.isMember.qps, ' QPS')} with ${r.options.concurrency} callers; at ${n(floor?.isMemberAtRate.offered, ' QPS')} offered p50 ${n(floor?.isMemberAtRate.latencyMs['p50'])} ms, p99 ${n(floor?.isMemberAtRate.latencyMs['p99'])} ms; ${n(floor?.isMemberAtRate.serviceCpuMsPerCall)} CPU-ms per call in the server | what this machine's gRPC stack allows | — | ${n(floor?.isMemberAtRate.load)} |`,
    `| f | full refresh of a SCHEDULED segment (RefreshNow → job SUCCEEDED) | ${n(refresh?.profiles)} profiles in ${n(refresh?.seconds)} s (${refresh?.status ?? '—'}): ${n(refresh?.profilesPerSecond, ' profiles/s')}, ${n(refresh?.secondsPer100k)} s per 100k | ≥ 50,000 profiles/s | ${verdict(refresh ? refresh.status === 'SUCCEEDED' && refresh.profilesPerSecond >= 50_000 : undefined)} | ${n(refresh?.load)} |`,
  );
  const fp = r.footprint;
  if (fp) {
    const rss = Object.keys(fp.rssPeakMiB)
      .map((k) => `${k} ${fp.rssPeakMiB[k]} MiB (end ${fp.rssEndMiB[k] ?? '—'})`)
      .join(', ');
    push(
      `| g | RSS, peak (end), from /proc | ${rss} | — | — | — |`,
      `| g | store bytes per profile | ${n(fp.dataBytesPerProfile)} bytes of data (dbStats) per profile over ${n(fp.profiles)} profiles${fp.storeFileBytes ? `; the store's file grew ${n(Math.round((fp.storeFileBytes.after - fp.storeFileBytes.before) / 2 ** 20), ' MiB')} (${n(fp.storeFileBytes.perProfile)} bytes per profile)` : ''} | — | — | — |`,
    );
  }
  const wide = r.wide;
  if (wide) {
    const [few, many] = wide.runs;
    push(
      `| h | membership alone, ${n(few?.changes)} profile changes: ${n(few?.segments)} segments against ${n(many?.segments)} (${n(many?.dependent)} depend on the stream) | ${n(few?.eventsPerSecond)} vs ${n(many?.eventsPerSecond)} events/s${unfinished(wide.runs)}: ratio ${many ? (wide.ratio * 100).toFixed(0) : '—'}% | close (the dependency index) | ${verdict(many ? wide.ratio >= 0.8 : undefined)} (≥ 80% taken as close) | ${loads(few?.load)}; ${loads(many?.load)} |`,
    );
  }
  push(
    `| — | 1M profiles × 100 segments held | see the large run below | held | ${r.options.profiles >= 1_000_000 && r.options.segments >= 100 && r.errors.length === 0 && r.endToEnd ? 'pass' : 'not run'} | — |`,
    '',
  );

  push('CPU-seconds used per stage, by process (from /proc):', '');
  const cpuRows: [string, Record<string, number> | undefined, number | undefined][] = [
    ['b: end to end', e2e?.cpuSeconds, e2e?.events],
    [
      'c, d: latency run',
      lat?.cpuSeconds,
      lat ? Math.round(lat.achievedRate * lat.seconds) : undefined,
    ],
  ];
  for (const [stage, cpu, events] of cpuRows) {
    if (!cpu) continue;
    const total = Object.values(cpu).reduce((a, b) => a + b, 0);
    push(
      `- ${stage}: ${Object.entries(cpu)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}; ${total.toFixed(1)} in all${events ? `, ${((total * 1000) / events).toFixed(2)} CPU-ms per event (ingestion + membership: ${((((cpu['ingestion'] ?? 0) + (cpu['membership'] ?? 0)) * 1000) / events).toFixed(2)})` : ''}.`,
    );
  }
  const hops = lat?.hops;
  if (hops && hops.probes > 0) {
    const each = PROBE_HOPS.map(
      (hop) => `${hop} p50 ${n(hops.hopsMs[hop]['p50'])} / p99 ${n(hops.hopsMs[hop]['p99'])} ms`,
    );
    const slowest = PROBE_HOPS.map((hop) => `${hop} ${n(hops.slowestMs[hop])}`);
    push(
      `- c, hop by hop over ${n(hops.probes)} probes (upstream send → ingestion's profile change → membership's transition, by the records' create times → consumed): ${each.join(', ')}; the slowest 1%, median of each hop: ${slowest.join(', ')} ms.`,
    );
  }
  if (wide) {
    for (const w of wide.runs) {
      push(
        `- h, ${w.segments} segments: membership ${w.cpuSeconds} CPU-s from ready to the last commit (${w.seconds} s) for ${w.committed} committed changes (${((w.cpuSeconds * 1000) / Math.max(1, w.committed)).toFixed(2)} CPU-ms each), first commit ${w.firstCommitSeconds ?? '—'} s after ready; ready in ${w.startSeconds} s using ${w.startCpuSeconds} CPU-s; peak RSS ${w.rssPeakMiB} MiB, ${w.transitions} transitions.`,
      );
    }
  }
  if (e2e) {
    push(
      `- b published ${n(e2e.profileChanges)} profile changes and ${n(e2e.transitions)} transitions; ${n(e2e.deadLetters)} upstream records dead-lettered.`,
    );
  }
  push('');
  if (r.hotPaths && Object.keys(r.hotPaths).length > 0) {
    push('Hot paths (`--cpu-prof`, self time):', '');
    for (const [name, hot] of Object.entries(r.hotPaths)) {
      push(
        `- ${name} (${hot.sampledSeconds} s sampled busy): by owner ${hot.byOwner
          .slice(0, 8)
          .map((o) => `${o.name} ${o.share}%`)
          .join(', ')}; top functions ${hot.byFunction
          .slice(0, 6)
          .map((f) => `\`${f.name}\` ${f.share}%`)
          .join(', ')}.`,
      );
    }
    push('');
  }
  return lines.join('\n');
}

function unfinished(runs: NonNullable<Results['wide']>['runs']): string {
  const stopped = runs.filter((w) => !w.finished);
  return stopped.length === 0
    ? ''
    : ` (${stopped
        .map(
          (w) =>
            `${w.segments} segments: ran out of time, ${w.committed} of ${w.changes} committed in ${w.seconds} s`,
        )
        .join('; ')})`;
}

function commandLine(r: Results): string {
  const o = r.options;
  return [
    `--profiles ${o.profiles}`,
    `--events ${o.events}`,
    `--segments ${o.segments}`,
    `--partitions ${o.partitions}`,
    `--zipf ${o.zipf}`,
    ...(o.everyProfile ? ['--every-profile'] : []),
    `--stages ${o.stages.join(',')}`,
    ...(o.cpuProf ? ['--cpu-prof'] : []),
  ].join(' ');
}

/** Formats a file's text as `npx prettier --check .` expects it (the repository's settings). */
async function formatted(text: string, file: string): Promise<string> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

/** Writes the figures between the report's markers (creating it if missing) and the JSON file. */
export async function writeReport(results: Results, out: string, json: string): Promise<void> {
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, await formatted(JSON.stringify(results), json));
  const jsonPath = relative(REPO_ROOT, json);
  const body = `${BEGIN}\n\n${renderReport(results, jsonPath)}\n${END}`;
  const existing = existsSync(out)
    ? readFileSync(out, 'utf8')
    : `# Benchmarks\n\n${BEGIN}\n${END}\n`;
  const from = existing.indexOf(BEGIN);
  const to = existing.indexOf(END);
  const next =
    from >= 0 && to > from
      ? `${existing.slice(0, from)}${body}${existing.slice(to + END.length)}`
      : `${existing.trimEnd()}\n\n${body}\n`;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, await formatted(next, out));
}
