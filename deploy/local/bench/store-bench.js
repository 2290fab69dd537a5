// Measures the local store (deploy/local/mongo) on its own instance: 1,000-op unordered bulk
// upserts, single updateOne calls from concurrent clients, findOne by _id, the store's CPU
// seconds and its data file's size over time. Figures and how they were taken: ../README.md.
//
//   npx nx build @shoal/local-infra
//   node deploy/local/bench/store-bench.js --label after
//   node deploy/local/bench/store-bench.js --label before --launcher <old launcher> --java-options=-Xmx1g
//
// It starts and stops its own store (a free port, a data file under <SHOAL_HOME>/bench/) and
// signals only that process. --launcher and --java-options measure another launcher, e.g. the one
// a commit shipped: git show <commit>:deploy/local/mongo/ShoalMongoLauncher.java > <file>. CPU seconds come from /proc/<pid>/stat, so it runs on Linux only.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { clearInterval, setInterval } = require('node:timers');
const { parseArgs } = require('node:util');
const { MongoClient } = require('mongodb');

const dist = path.join(__dirname, '..', 'dist');
if (!fs.existsSync(path.join(dist, 'mongo.js'))) {
  process.stderr.write('store-bench: build first: npx nx build @shoal/local-infra\n');
  process.exit(1);
}
const { ASSETS, resolveHome } = require(path.join(dist, 'layout'));
const { MONGO_JAVA_OPTIONS, startMongo } = require(path.join(dist, 'mongo'));
const { freePort } = require(path.join(dist, 'ports'));

const { values: options } = parseArgs({
  options: {
    label: { type: 'string', default: 'store' },
    launcher: { type: 'string', default: ASSETS.mongoLauncher },
    'java-options': { type: 'string', default: MONGO_JAVA_OPTIONS.join(' ') },
    writes: { type: 'string', default: '1000000' },
    ids: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '16' },
    'update-seconds': { type: 'string', default: '30' },
    reads: { type: 'string', default: '5000' },
    'sample-seconds': { type: 'string', default: '5' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const WRITES = Number(options.writes);
const IDS = Number(options.ids);
const BATCH = Number(options.batch);
const CLIENTS = Number(options.clients);
const UPDATE_MS = Number(options['update-seconds']) * 1000;
const READS = Number(options.reads);
const SAMPLE_MS = Number(options['sample-seconds']) * 1000;
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
const PAYLOAD = 'p'.repeat(160);

function log(line) {
  process.stdout.write(`${line}\n`);
}

/** Seeded, so before and after send exactly the same requests. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Op n of the upserts writes profile (n × SCATTER) mod IDS: every id once per IDS writes, spread out. */
const SCATTER = 48271;

function gcd(a, b) {
  return b === 0 ? a : gcd(b, a % b);
}

function profileId(index) {
  return `profile-${String(index).padStart(7, '0')}`;
}

/** user + system CPU seconds of the whole process (all JVM threads). */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function residentMegabytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1000;
}

function fileMegabytes(file) {
  try {
    return fs.statSync(file).size / 1e6;
  } catch {
    return 0;
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

function latencySummary(millis) {
  const sorted = [...millis].sort((a, b) => a - b);
  return {
    p50Ms: round(percentile(sorted, 50), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    maxMs: round(sorted[sorted.length - 1], 2),
  };
}

function round(value, digits = 1) {
  return Number(value.toFixed(digits));
}

function load() {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

async function startStore(dir) {
  const dataFile = path.join(dir, 'store.mv');
  const store = await startMongo({
    port: await freePort(),
    dataFile,
    logFile: path.join(dir, 'store.log'),
    launcher: options.launcher,
    javaOptions: options['java-options'].split(' ').filter(Boolean),
  });
  return { pid: store.pid, url: store.endpoint, kill: store.kill, dataFile };
}

/** A sample every SAMPLE_MS while the phases run, and one at the end of each: the file over time. */
function startSampling(store, started, progress) {
  const samples = [];
  const record = () => {
    const sample = {
      seconds: round((Date.now() - started) / 1000),
      phase: progress.phase,
      ops: progress.ops,
      fileMB: round(fileMegabytes(store.dataFile)),
      cpuSeconds: round(cpuSeconds(store.pid)),
      residentMB: Math.round(residentMegabytes(store.pid)),
    };
    samples.push(sample);
    log(
      `  t=${sample.seconds}s ${sample.phase} ops=${sample.ops} file=${sample.fileMB} MB cpu=${sample.cpuSeconds} s rss=${sample.residentMB} MB`,
    );
  };
  const timer = setInterval(record, SAMPLE_MS);
  return { samples, record, stop: () => clearInterval(timer) };
}

async function phase(name, store, progress, sampling, body) {
  progress.phase = name;
  progress.ops = 0;
  const loadBefore = load();
  const cpuBefore = cpuSeconds(store.pid);
  const started = process.hrtime.bigint();
  const details = await body();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuSeconds(store.pid) - cpuBefore;
  sampling.record();
  const result = {
    ops: progress.ops,
    seconds: round(seconds),
    opsPerSecond: Math.round(progress.ops / seconds),
    storeCpuSeconds: round(cpu),
    storeCpuSecondsPer100kOps: round((cpu * 100_000) / progress.ops),
    fileMB: round(fileMegabytes(store.dataFile)),
    load: { before: loadBefore, after: load() },
    ...details,
  };
  log(`${name}: ${JSON.stringify(result)}`);
  return result;
}

async function bulkUpserts(collection, progress) {
  const batchMillis = [];
  for (let written = 0; written < WRITES; written += BATCH) {
    const operations = [];
    for (let i = 0; i < BATCH; i++) {
      const n = written + i;
      operations.push({
        updateOne: {
          filter: { _id: profileId((n * SCATTER) % IDS) },
          update: {
            $set: { n, plan: n % 3 === 0 ? 'pro' : 'free', score: n % 1000, payload: PAYLOAD },
            $inc: { writes: 1 },
          },
          upsert: true,
        },
      });
    }
    const started = performance.now();
    await collection.bulkWrite(operations, { ordered: false });
    batchMillis.push(performance.now() - started);
    progress.ops += BATCH;
  }
  return { batch: latencySummary(batchMillis) };
}

async function concurrentUpdates(url, progress) {
  const clients = Array.from({ length: CLIENTS }, () => new MongoClient(url, { maxPoolSize: 1 }));
  const millis = [];
  const deadline = Date.now() + UPDATE_MS;
  try {
    await Promise.all(
      clients.map(async (client, index) => {
        const collection = client.db('bench').collection('profiles');
        const next = random(100 + index);
        while (Date.now() < deadline) {
          const started = performance.now();
          await collection.updateOne(
            { _id: profileId(Math.floor(next() * IDS)) },
            { $inc: { writes: 1 }, $set: { touchedBy: index } },
          );
          millis.push(performance.now() - started);
          progress.ops += 1;
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
  return { clients: CLIENTS, update: latencySummary(millis) };
}

async function pointReads(collection, progress) {
  const next = random(7);
  const millis = [];
  for (let i = 0; i < READS; i++) {
    const started = performance.now();
    const found = await collection.findOne({ _id: profileId(Math.floor(next() * IDS)) });
    millis.push(performance.now() - started);
    if (!found) throw new Error('findOne missed a document the upserts wrote');
    progress.ops += 1;
  }
  return { findOne: latencySummary(millis) };
}

async function measure(store) {
  const startupCpu = cpuSeconds(store.pid);
  const progress = { phase: 'start', ops: 0 };
  const sampling = startSampling(store, Date.now(), progress);
  const client = new MongoClient(store.url);
  const collection = client.db('bench').collection('profiles');
  const report = {
    label: options.label,
    launcher: options.launcher,
    javaOptions: options['java-options'],
  };
  try {
    report.bulkUpserts = await phase('bulk upserts', store, progress, sampling, () =>
      bulkUpserts(collection, progress),
    );
    report.singleUpdates = await phase('single updates', store, progress, sampling, () =>
      concurrentUpdates(store.url, progress),
    );
    report.pointReads = await phase('findOne by _id', store, progress, sampling, () =>
      pointReads(collection, progress),
    );
    report.documents = await collection.estimatedDocumentCount();
  } finally {
    await client.close();
    sampling.stop();
  }
  report.fileSizeOverTime = sampling.samples;
  report.maxFileMB = Math.max(0, ...sampling.samples.map((sample) => sample.fileMB));
  report.maxResidentMB = Math.max(0, ...sampling.samples.map((sample) => sample.residentMB));
  report.storeCpuSecondsAfterStartup = round(cpuSeconds(store.pid) - startupCpu);
  report.fileMBBeforeShutdown = round(fileMegabytes(store.dataFile));
  return report;
}

async function main() {
  if (gcd(SCATTER, IDS) !== 1 || WRITES < IDS) {
    throw new Error(
      `--ids must be coprime with ${SCATTER} and at most --writes, so every id is written`,
    );
  }
  const dir = path.join(resolveHome(), 'bench', `${options.label}-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  log(`store-bench ${options.label}: ${path.resolve(options.launcher)} ${options['java-options']}`);
  log(`  ${os.cpus().length} cores, load ${load()}, data in ${dir}`);
  const store = await startStore(dir);
  let report;
  try {
    report = await measure(store);
  } catch (error) {
    await store.kill('SIGKILL');
    throw error;
  }
  const stopping = Date.now();
  await store.kill('SIGTERM');
  report.shutdownSeconds = round((Date.now() - stopping) / 1000);
  report.fileMBAfterShutdown = round(fileMegabytes(store.dataFile));
  log(
    `end: ${report.documents} documents, store CPU ${report.storeCpuSecondsAfterStartup} s, file ` +
      `at most ${report.maxFileMB} MB, ${report.fileMBBeforeShutdown} MB running, ${report.fileMBAfterShutdown} MB after a ` +
      `${report.shutdownSeconds} s shutdown; load ${load()}`,
  );
  if (options.out) fs.writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  if (!options.keep) fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  process.stderr.write(`store-bench: ${error.stack ?? error}\n`);
  process.exit(1);
});
