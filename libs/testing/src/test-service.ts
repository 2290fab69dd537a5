import type { InjectionToken, Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CLOCK, type Clock, LOGGER } from '@shoal/platform';
import pino from 'pino';

/** When a test service's clock stands unless the test says otherwise. */
export const FIXED_NOW = '2026-12-01T00:00:00Z';

/** A clock that stands still until the test moves it. */
export class FixedClock implements Clock {
  private ms: number;

  constructor(at: Date | string = FIXED_NOW) {
    this.ms = new Date(at).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  /** Moves the clock by `ms` (back, when negative). */
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface TestServiceOptions {
  /** Typed fakes of the ports the service reaches (in-memory repositories, notifiers), by DI token. */
  readonly fakes?: readonly (readonly [token: InjectionToken, fake: unknown])[];
  /** Providers as production has them: the services it uses, configuration values. */
  readonly providers?: readonly Provider[];
  /** Where the clock stands. */
  readonly now?: Date | string;
}

export interface TestService<T> {
  /** The service under test. */
  readonly sut: T;
  readonly clock: FixedClock;
  /** Another provider of the same wiring (a fake, a collaborating service). */
  get<U>(token: Type<U> | string | symbol): U;
}

/**
 * A service for unit tests of its domain logic, wired by Nest's DI as its feature module wires
 * it, with typed fakes in place of its ports, a fixed clock and a silent logger. Dependencies
 * are resolved by their DI tokens, so a service that asks for a concrete adapter instead of a
 * port fails here. Lifecycle hooks (`onModuleInit`) run before it is returned.
 */
export async function newTestService<T>(
  service: Type<T>,
  { fakes = [], providers = [], now }: TestServiceOptions = {},
): Promise<TestService<T>> {
  const clock = new FixedClock(now);
  const module = await Test.createTestingModule({
    providers: [
      { provide: CLOCK, useValue: clock },
      { provide: LOGGER, useValue: pino({ level: 'silent' }) },
      ...fakes.map(([provide, useValue]) => ({ provide, useValue })),
      ...providers,
      service,
    ],
  }).compile();
  await module.init();
  return { sut: module.get(service), clock, get: (token) => module.get(token) };
}
