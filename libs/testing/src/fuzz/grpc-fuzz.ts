import {
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageInitShape,
  create,
  fromBinary,
  toBinary,
} from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { ERROR_DETAILS_TRAILER, ERROR_LIMITS, healthServiceDescriptor } from '@shoal/platform';
import { SignJWT, generateKeyPair } from 'jose';
import type { TestScope, TokenRequest } from '../test-scope';
import { type KnownValues, requestArbitrary } from './request-arbitrary';

/** Someone calling: a name for the report, and the bearer token sent (none when absent). */
export interface FuzzCaller {
  readonly name: string;
  readonly token?: string;
  /** How often this caller is picked relative to the others; 1 by default. */
  readonly weight?: number;
  /** Its token must be refused: every answer to it is UNAUTHENTICATED (see FuzzTarget.open). */
  readonly refused?: boolean;
}

/** A running gRPC service to throw arbitrary requests at. */
export interface FuzzTarget {
  readonly service: DescService;
  /** host:port */
  readonly address: string;
  /** Who calls; each request goes out as one of them. See fuzzCallers. */
  readonly callers: readonly FuzzCaller[];
  /** Strings worth trying besides generated ones: ids that exist, names in use, … */
  readonly strings?: readonly string[];
  /**
   * Values the service accepts (ids with their versions, valid rules, page tokens, …): given
   * them, half the requests are well-formed around arbitrary values and reach the use cases.
   */
  readonly known?: KnownValues;
  /**
   * RPCs whose stream stays open by design (e.g. health Watch): their first message is the
   * answer, after which the harness cancels. Every other stream must end.
   */
  readonly openStreams?: readonly string[];
  /** Answers callers without a valid token too (the health service): none is refused. */
  readonly open?: boolean;
  /** How long a call may take before it counts as a hang; 5 s by default. */
  readonly deadlineMs?: number;
  /** Requests per RPC; FUZZ_RUNS, else 100. */
  readonly runs?: number;
}

/** What no request may ever get: a bug's status, or no answer before the deadline. */
const FORBIDDEN = new Set([
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.DEADLINE_EXCEEDED,
]);
/**
 * What a caller whose token must be refused gets: UNAUTHENTICATED, or RESOURCE_EXHAUSTED when
 * its message is over the size limit (the transport refuses it before any token is looked at).
 */
const REFUSALS = new Set([grpc.status.UNAUTHENTICATED, grpc.status.RESOURCE_EXHAUSTED]);
/** Shrinking steps after a failure. */
const MAX_SHRINKS = 12;
/** Streamed messages read before the harness stops reading a long stream. */
const MAX_STREAM_ITEMS = 200;
/** The seed every run uses unless FC_SEED says otherwise, as in the rule language's tests. */
const DEFAULT_SEED = 20_261_123;

/** The RPC names of a service, for `it.each`. */
export function rpcNames(service: DescService): string[] {
  return service.methods.map((method) => method.name);
}

/** A valid user of a fuzz run; `weight` makes one (say the owner of the fixtures) call more. */
export interface FuzzUser extends TokenRequest {
  /** How often this user is picked relative to the other callers; 4 by default. */
  readonly weight?: number;
}

/**
 * Callers for a fuzz run: no token, a malformed one, valid users (those given), a valid service,
 * and tokens that must be refused — expired, issued in the future, living a century, from
 * another issuer, signed by a key nobody trusts. Valid callers come up more often, so most
 * requests reach the handlers.
 */
export async function fuzzCallers(
  scope: TestScope,
  users: readonly FuzzUser[] = [{ subject: 'fuzz-user' }],
): Promise<FuzzCaller[]> {
  const hour = 3_600_000;
  const named = async (name: string, request: TokenRequest, weight = 1) => ({
    name,
    token: await scope.token(request),
    weight,
  });
  const refused = async (name: string, request: TokenRequest) => ({
    ...(await named(name, request)),
    refused: true,
  });
  return [
    { name: 'no token', refused: true },
    { name: 'not a JWT', token: 'not.a-jwt', refused: true },
    ...(await Promise.all(
      users.map(({ weight = 4, ...user }) =>
        named(`user ${user.subject} [${user.groups ?? []}]`, user, weight),
      ),
    )),
    await named('service', { subject: 'service:fuzz', service: 'fuzz' }, 4),
    await refused('expired user', {
      subject: 'fuzz-user',
      issuedAt: new Date(Date.now() - hour),
      ttlSeconds: 600,
    }),
    await refused('user issued in the future', {
      subject: 'fuzz-user',
      issuedAt: new Date(Date.now() + hour),
    }),
    await refused('user token living a century', {
      subject: 'fuzz-user',
      ttlSeconds: 100 * 365 * 86_400,
    }),
    await refused('user token of another issuer', {
      subject: 'fuzz-user',
      issuer: 'https://idp.example',
    }),
    { name: 'foreign-signed user', token: await foreignToken(), refused: true },
  ];
}

/** The token of the valid user `subject` among callers made by fuzzCallers. */
export function fuzzUserToken(callers: readonly FuzzCaller[], subject: string): string {
  const token = callers.find((c) => c.name.startsWith(`user ${subject} [`))?.token;
  if (token === undefined) throw new Error(`no fuzz user ${subject} among the callers`);
  return token;
}

/** How many requests of a run got each status, by status name ("OK", "NOT_FOUND", …). */
export type FuzzOutcomes = Partial<Record<keyof typeof grpc.status, number>>;

/** A status name, as FuzzOutcomes counts them. */
export type FuzzAnswer = keyof typeof grpc.status;

/**
 * fuzzRpc, failing also when no request reached the use case: none ended in one of
 * `useCaseAnswers` (a success, or a refusal given only after reading what the request names),
 * so every request was turned away at the door and the handler went untested.
 */
export async function fuzzRpcToUseCase(
  target: FuzzTarget,
  rpc: string,
  useCaseAnswers: readonly FuzzAnswer[],
): Promise<FuzzOutcomes> {
  const outcomes = await fuzzRpc(target, rpc);
  if (!useCaseAnswers.some((code) => (outcomes[code] ?? 0) > 0)) {
    throw new Error(
      `${target.service.typeName}/${rpc}: no request reached its use case ` +
        `(${useCaseAnswers.join(', ')}); the requests ended ${JSON.stringify(outcomes)}`,
    );
  }
  return outcomes;
}

/**
 * The fuzz tests of a service's gRPC server: each RPC of `service` answers every request, never
 * INTERNAL, UNKNOWN or late, refuses bad tokens and reaches its use case (fuzzRpcToUseCase);
 * each RPC of the health service on the same server answers every caller, token or not. The
 * target is made in a `beforeAll`, hence the getter.
 */
export function itAnswersArbitraryRequests(
  service: DescService,
  target: () => FuzzTarget,
  useCaseAnswers: readonly FuzzAnswer[],
): void {
  it.each(rpcNames(service))(
    `${service.name}/%s answers every request, never INTERNAL, UNKNOWN or late, refuses bad tokens, and reaches its use case`,
    (rpc) => fuzzRpcToUseCase(target(), rpc, useCaseAnswers),
  );
  const health = healthServiceDescriptor();
  it.each(rpcNames(health))(
    'grpc.health.v1.Health/%s answers every request, never INTERNAL, UNKNOWN or late',
    (rpc) => fuzzRpc(healthFuzzTarget(target()), rpc),
  );
}

/** The health service beside a fuzzed service: open to every caller, its Watch stream stays open. */
export function healthFuzzTarget(served: FuzzTarget): FuzzTarget {
  return {
    service: healthServiceDescriptor(),
    address: served.address,
    callers: served.callers,
    strings: [served.service.typeName],
    openStreams: ['Watch'],
    open: true,
  };
}

/**
 * Sends arbitrary requests to one RPC — generated from its descriptor, or raw bytes — as
 * arbitrary callers, and fails on the first one answered with INTERNAL or UNKNOWN, not answered
 * before the deadline, refused with a message or details larger than the platform sends
 * (ERROR_LIMITS), or, from a caller whose token must be refused, answered with anything but
 * UNAUTHENTICATED (see REFUSALS); it reports the (shrunk) request and caller. Answers how the requests ended,
 * so a test can check that they reached the use cases.
 */
export async function fuzzRpc(target: FuzzTarget, rpc: string): Promise<FuzzOutcomes> {
  const method = target.service.methods.find((m) => m.name === rpc);
  if (!method) throw new Error(`${target.service.typeName} has no RPC ${rpc}`);
  if (method.methodKind === 'bidi_streaming') {
    throw new Error(`${method.methodKind} RPCs are not fuzzed (${rpc})`);
  }
  const client = new grpc.Client(target.address, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': -1,
  });
  const open = target.openStreams?.includes(rpc) ?? false;
  const outcomes: FuzzOutcomes = {};
  try {
    await fc.assert(
      // a hang costs a whole deadline per try: shrink only a few steps
      fc.asyncProperty(
        fc.limitShrink(requestCases(method, target), MAX_SHRINKS),
        async (request) => {
          const outcome = await send(client, method, request, target.deadlineMs ?? 5_000, open);
          const name = grpc.status[outcome.code] as keyof typeof grpc.status;
          outcomes[name] = (outcomes[name] ?? 0) + 1;
          const problem =
            forbidden(outcome) ??
            (request.caller.refused && !target.open && !REFUSALS.has(outcome.code)
              ? 'to a token that must be refused (UNAUTHENTICATED)'
              : undefined);
          if (problem) {
            throw new Error(
              `${target.service.typeName}/${rpc} answered ${name} ${problem}: ${outcome.details.slice(0, 2_000)}`,
            );
          }
        },
      ),
      fuzzParameters(target.runs),
    );
  } finally {
    client.close();
  }
  return outcomes;
}

/** What is wrong with an answer, if anything. */
function forbidden(outcome: Outcome): string | undefined {
  if (FORBIDDEN.has(outcome.code)) return '(a bug or a hang)';
  const messageBytes = Buffer.byteLength(outcome.details);
  if (messageBytes > ERROR_LIMITS.messageBytes)
    return `with a ${messageBytes}-byte message (at most ${ERROR_LIMITS.messageBytes})`;
  if (outcome.detailsBytes > ERROR_LIMITS.detailsBytes)
    return `with ${outcome.detailsBytes} bytes of error details (at most ${ERROR_LIMITS.detailsBytes})`;
  return undefined;
}

/** One request: who sends it and the bytes on the wire; printed short in reports. */
class RequestCase {
  constructor(
    readonly caller: FuzzCaller,
    readonly bytes: Uint8Array,
    private readonly shown: string,
  ) {}

  [fc.toStringMethod](): string {
    return `${this.caller.name}: ${this.shown}`;
  }
}

function requestCases(method: DescMethod, target: FuzzTarget): fc.Arbitrary<RequestCase> {
  const caller = fc.oneof(
    ...target.callers.map((c) => ({ weight: c.weight ?? 1, arbitrary: fc.constant(c) })),
  );
  const message = requestArbitrary(method.input, {
    ...(target.strings ? { strings: target.strings } : {}),
    ...(target.known ? { known: target.known } : {}),
  }).map((init: MessageInitShape<DescMessage>) => ({
    bytes: toBinary(method.input, create(method.input, init)),
    shown: summary(init),
  }));
  const raw = fc.oneof(
    fc.uint8Array({ maxLength: 256 }),
    // a valid message cut short, or with bytes after it
    fc
      .tuple(message, fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.boolean())
      .map(([{ bytes }, extra, cut]) =>
        cut ? bytes.slice(0, Math.max(0, bytes.length - extra.length)) : concat(bytes, extra),
      ),
  );
  return fc
    .tuple(
      caller,
      fc.oneof(
        { weight: 5, arbitrary: message },
        {
          weight: 1,
          arbitrary: raw.map((bytes) => ({ bytes, shown: `raw bytes ${hex(bytes)}` })),
        },
      ),
    )
    .map(([who, { bytes, shown }]) => new RequestCase(who, bytes, shown));
}

interface Outcome {
  readonly code: grpc.status;
  readonly details: string;
  /** Size of the error details trailer (shoal-error-details-bin); 0 without one. */
  readonly detailsBytes: number;
}

function outcomeOf(error: grpc.ServiceError): Outcome {
  const details = error.metadata?.get(ERROR_DETAILS_TRAILER)[0];
  return {
    code: error.code,
    details: error.details,
    detailsBytes: details instanceof Buffer ? details.length : 0,
  };
}

const ANSWERED: Outcome = { code: grpc.status.OK, details: '', detailsBytes: 0 };

/** One call; resolves with its status, or DEADLINE_EXCEEDED when nothing came back in time. */
function send(
  client: grpc.Client,
  method: DescMethod,
  request: RequestCase,
  deadlineMs: number,
  openStream: boolean,
): Promise<Outcome> {
  const path = `/${method.parent.typeName}/${method.name}`;
  const metadata = new grpc.Metadata();
  if (request.caller.token !== undefined) {
    metadata.set('authorization', `Bearer ${request.caller.token}`);
  }
  const options = { deadline: new Date(Date.now() + deadlineMs) };
  const serialize = (bytes: Uint8Array) => Buffer.from(bytes);
  const deserialize = (bytes: Buffer) => fromBinary(method.output, bytes);
  return new Promise<Outcome>((resolve) => {
    // the client's own deadline ends every call; this only guards against a client that never reports
    const guard = setTimeout(
      () =>
        resolve({
          code: grpc.status.DEADLINE_EXCEEDED,
          details: 'no answer at all',
          detailsBytes: 0,
        }),
      deadlineMs + 5_000,
    );
    const done = (outcome: Outcome) => {
      clearTimeout(guard);
      resolve(outcome);
    };
    const answered = (e: grpc.ServiceError | null) => done(e ? outcomeOf(e) : ANSWERED);
    if (method.methodKind === 'unary') {
      client.makeUnaryRequest(
        path,
        serialize,
        deserialize,
        request.bytes,
        metadata,
        options,
        answered,
      );
      return;
    }
    if (method.methodKind === 'client_streaming') {
      // the request twice: a stream of more than one message, each arbitrary in the same way
      const call = client.makeClientStreamRequest(
        path,
        serialize,
        deserialize,
        metadata,
        options,
        answered,
      );
      call.write(request.bytes);
      call.write(request.bytes);
      call.end();
      return;
    }
    const stream = client.makeServerStreamRequest(
      path,
      serialize,
      deserialize,
      request.bytes,
      metadata,
      options,
    );
    let received = 0;
    let cancelled = false;
    stream.on('data', () => {
      received += 1;
      if ((openStream || received >= MAX_STREAM_ITEMS) && !cancelled) {
        cancelled = true;
        stream.cancel();
      }
    });
    stream.on('error', (e: grpc.ServiceError) =>
      done(cancelled && e.code === grpc.status.CANCELLED ? ANSWERED : outcomeOf(e)),
    );
    stream.on('end', () => done(ANSWERED));
  });
}

/** The run count (FUZZ_RUNS, else 100) and fixed seed (FC_SEED, "random" for none) of every fuzz run. */
export function fuzzParameters<T>(runs: number | undefined): fc.Parameters<T> {
  const seed = process.env['FC_SEED'];
  return {
    numRuns: runs ?? Number(process.env['FUZZ_RUNS'] ?? 100),
    ...(seed === 'random' ? {} : { seed: seed ? Number(seed) : DEFAULT_SEED }),
  };
}

/** A user token signed by a key no Shoal service trusts, otherwise well-formed. */
async function foreignToken(): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ groups: ['admins'] })
    .setProtectedHeader({ alg: 'ES256', kid: 'foreign', typ: 'JWT' })
    .setSubject('fuzz-user')
    .setIssuer('shoal')
    .setAudience('shoal')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
}

/** A request init, JSON-like, with long strings and byte arrays shortened. */
function summary(init: unknown): string {
  return JSON.stringify(init, (_, value: unknown) => {
    if (typeof value === 'bigint') return `${value}n`;
    if (typeof value === 'string' && value.length > 40) {
      return `${value.slice(0, 20)}…(${value.length} chars)`;
    }
    if (value instanceof Uint8Array) return `bytes(${value.length})`;
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    return value;
  }).slice(0, 2_000);
}

function hex(bytes: Uint8Array): string {
  const shown = Buffer.from(bytes.slice(0, 32)).toString('hex');
  return bytes.length > 32 ? `${shown}…(${bytes.length} bytes)` : shown;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
