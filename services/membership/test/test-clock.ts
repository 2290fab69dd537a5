import type { Clock } from '@shoal/platform';

/** The real time, moved forward on demand: a service under test sees days pass in a moment. */
export class MovableClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
