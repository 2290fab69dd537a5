import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import {
  ErrorDetailsSchema,
  type FieldViolation,
  MembershipService,
  ProfileService,
  SegmentService,
} from '@shoal/contracts';

/** The header the console requires on every call that acts as the user (CSRF check). */
export const CSRF_HEADERS = { 'x-shoal-console': '1' } as const;

/** Calls go to the console's own Connect endpoint; the session cookie goes along by itself. */
export const transport = createConnectTransport({
  baseUrl: '/api',
  interceptors: [
    (next) => async (request) => {
      for (const [name, value] of Object.entries(CSRF_HEADERS)) request.header.set(name, value);
      return next(request);
    },
  ],
});

/** For server-streaming calls, which TanStack Query does not wrap. */
export const membershipClient = createClient(MembershipService, transport);

/** For the members table's columns: one cached query per profile shown. */
export const profileClient = createClient(ProfileService, transport);

/** For uploads sent batch after batch. */
export const segmentsClient = createClient(SegmentService, transport);

export interface Session {
  readonly signedIn: boolean;
  readonly devSignIn: boolean;
  readonly oidcSignIn: boolean;
  readonly user?: string;
  readonly groups?: string[];
}

export async function fetchSession(): Promise<Session> {
  const response = await fetch('/auth/session', { credentials: 'same-origin' });
  return (await response.json()) as Session;
}

export async function devSignIn(user: string, groups: string[]): Promise<void> {
  const response = await fetch('/auth/dev-sign-in', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', ...CSRF_HEADERS },
    body: JSON.stringify({ user, groups }),
  });
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { message?: string };
    throw new Error(body.message ?? `sign-in failed (${response.status})`);
  }
}

export async function signOut(): Promise<void> {
  await fetch('/auth/sign-out', {
    method: 'POST',
    credentials: 'same-origin',
    headers: CSRF_HEADERS,
  });
}

/** What went wrong in words, and the field violations a service named. */
export function describeError(error: unknown): { message: string; violations: FieldViolation[] } {
  if (error instanceof ConnectError) {
    const details = error.findDetails(ErrorDetailsSchema)[0];
    return { message: error.rawMessage, violations: details?.violations ?? [] };
  }
  return { message: error instanceof Error ? error.message : String(error), violations: [] };
}

export function formatTime(timestamp: Timestamp | undefined): string {
  if (!timestamp || timestamp.seconds === 0n) return '—';
  return new Date(Number(timestamp.seconds) * 1000).toLocaleString();
}
