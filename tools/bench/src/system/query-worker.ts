// One thread of the query load (e): calls one unary RPC with requests encoded beforehand, over
// channels of its own, and reports every latency. Kept as cheap as a client can be (no
// per-call encoding, decoding, token or trace work), so the figures are the service's.
import { parentPort, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';

export interface QueryWorkerTask {
  readonly address: string;
  /** The RPC's path, /package.Service/Method. */
  readonly path: string;
  readonly token: string;
  /** Encoded requests, used in turn. */
  readonly requests: readonly Uint8Array[];
  /** Callers calling as soon as answered (closed loop); 0 with `rate`. */
  readonly callers: number;
  /** Calls a second whether or not earlier ones answered (open loop); 0 with `callers`. */
  readonly rate: number;
  readonly channels: number;
  readonly durationMs: number;
  readonly deadlineMs: number;
  /** Where this thread starts in `requests`, so threads do not call in lockstep. */
  readonly offset: number;
}

export interface QueryWorkerResult {
  /** Milliseconds per answered call: from its start (closed loop) or its due instant (open). */
  readonly latencies: Float64Array;
  readonly errors: number;
  readonly seconds: number;
}

const same = (bytes: Buffer) => bytes;

function run(task: QueryWorkerTask): Promise<QueryWorkerResult> {
  const options = { 'grpc.enable_channelz': 0 };
  const channels = Array.from(
    { length: task.channels },
    () => new grpc.Client(task.address, grpc.credentials.createInsecure(), options),
  );
  // grpc-js copies the metadata of every call, so one object serves them all
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${task.token}`);
  const requests = task.requests.map((bytes) => Buffer.from(bytes));
  let latencies = new Float64Array(1 << 16);
  let answered = 0;
  let errors = 0;
  let issued = task.offset;
  const record = (latency: number) => {
    if (answered === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[answered++] = latency;
  };
  const call = (from: number, done: () => void) => {
    const n = issued++;
    (channels[n % channels.length] as grpc.Client).makeUnaryRequest(
      task.path,
      same,
      same,
      requests[n % requests.length] as Buffer,
      metadata,
      { deadline: Date.now() + task.deadlineMs },
      (error) => {
        if (error) errors++;
        else record(performance.now() - from);
        done();
      },
    );
  };
  const started = performance.now();
  const end = started + task.durationMs;
  return new Promise((resolve) => {
    let pending = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      channels.forEach((c) => c.close());
      resolve({
        latencies: latencies.slice(0, answered),
        errors,
        seconds: (performance.now() - started) / 1000,
      });
    };
    const settle = () => {
      if (--pending === 0 && performance.now() >= end) finish();
    };
    if (task.rate > 0) {
      let due = 0;
      const tick = () => {
        const now = performance.now();
        const until = Math.min(now, end);
        for (; started + (due / task.rate) * 1000 <= until; due++) {
          pending++;
          call(started + (due / task.rate) * 1000, settle);
        }
        if (now < end) setTimeout(tick, 1);
        else if (pending === 0) finish();
      };
      tick();
    } else {
      const caller = () => {
        if (performance.now() >= end) return settle();
        call(performance.now(), () => caller());
      };
      for (let i = 0; i < task.callers; i++) {
        pending++;
        caller();
      }
    }
  });
}

if (parentPort !== null) {
  const port = parentPort;
  void run(workerData as QueryWorkerTask).then((result) =>
    port.postMessage(result, [result.latencies.buffer as ArrayBuffer]),
  );
}
