// One thread of the query load (e): calls one unary RPC with requests framed beforehand, over
// HTTP/2 connections of its own, and reports every latency. It speaks gRPC's wire format
// directly (grpc-wire.ts) rather than through grpc-js's client, which costs about twice the CPU
// per call: the callers share this machine's two cores with the service, so the lighter they
// are, the more the figures are the service's.
import { type ClientHttp2Session, connect } from 'node:http2';
import { parentPort, workerData } from 'node:worker_threads';
import { GRPC_OK, grpcCall, grpcFrame, grpcRequestHeaders } from './grpc-wire';

export interface QueryWorkerTask {
  /** host:port of the gRPC server (plaintext). */
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
  /** HTTP/2 connections, calls spread over them in turn. */
  readonly channels: number;
  /** Calls are made but not counted for this long first (connections, JIT, the server's too). */
  readonly warmupMs: number;
  /** How long calls are counted, after the warm-up. */
  readonly durationMs: number;
  readonly deadlineMs: number;
  /** Where this thread starts in `requests`, so threads do not call in lockstep. */
  readonly offset: number;
}

export interface QueryWorkerResult {
  /** Milliseconds per answered call: from its start (closed loop) or its due instant (open). */
  readonly latencies: Float64Array;
  /** Calls answered with a status other than OK, failed, or not ended by their deadline. */
  readonly errors: number;
  /** Calls answered during the warm-up, not in `latencies`. */
  readonly warmupCalls: number;
  readonly seconds: number;
}

function run(task: QueryWorkerTask): Promise<QueryWorkerResult> {
  const sessions = Array.from({ length: task.channels }, () => {
    const session = connect(`http://${task.address}`);
    session.on('error', () => undefined); // its calls fail and are counted
    return session;
  });
  const headers = grpcRequestHeaders(task.path, task.token, task.deadlineMs);
  const frames = task.requests.map(grpcFrame);
  let latencies = new Float64Array(1 << 16);
  let answered = 0;
  let warmupCalls = 0;
  let errors = 0;
  let issued = task.offset;
  const started = performance.now();
  const measuredFrom = started + task.warmupMs;
  const end = measuredFrom + task.durationMs;
  const record = (from: number, status: number) => {
    if (from < measuredFrom) {
      warmupCalls++;
      return;
    }
    if (status !== GRPC_OK) {
      errors++;
      return;
    }
    if (answered === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[answered++] = performance.now() - from;
  };
  const call = (from: number, done: () => void) => {
    const n = issued++;
    grpcCall(
      sessions[n % sessions.length] as ClientHttp2Session,
      headers,
      frames[n % frames.length] as Buffer,
      (status) => {
        record(from, status);
        done();
      },
    );
  };
  return new Promise((resolve) => {
    let pending = 0;
    let finished = false;
    // a call the server never ends is given up once its deadline has passed, as an error
    const guard = setTimeout(
      () => {
        errors += pending;
        finish();
      },
      end - started + task.deadlineMs + 1_000,
    );
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(guard);
      sessions.forEach((s) => s.destroy());
      resolve({
        latencies: latencies.slice(0, answered),
        errors,
        warmupCalls,
        seconds: (performance.now() - measuredFrom) / 1000,
      });
    };
    const settle = () => {
      if (--pending === 0 && performance.now() >= end) finish();
    };
    if (task.rate > 0) {
      let due = 0;
      const dueAt = (n: number) => started + (n / task.rate) * 1000;
      const tick = () => {
        const now = performance.now();
        const until = Math.min(now, end);
        for (; dueAt(due) <= until; due++) {
          pending++;
          call(dueAt(due), settle);
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
