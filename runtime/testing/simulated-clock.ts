/**
 * A clock that moves only when told: the runtime's timers (handler timeouts, paused partitions resuming, the delay
 * router's held records) fire in time order as the test driver advances it, so a 30-minute timeout takes no time.
 */
import type { Clock, Timer } from "../clock.ts";

interface Scheduled {
  at: number;
  /** Order of scheduling: timers due at the same moment fire in the order they were set. */
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class SimulatedClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: Scheduled[] = [];

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  after(ms: number, fn: () => void): Timer {
    const timer: Scheduled = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** When the next timer is due, if any is set. */
  nextDue(): number | undefined {
    this.timers = this.timers.filter((t) => !t.cancelled);
    return this.timers.reduce<number | undefined>(
      (min, t) => (min === undefined || t.at < min ? t.at : min),
      undefined,
    );
  }

  /** Moves the clock forward to `to` (never back). */
  moveTo(to: number): void {
    this.current = Math.max(this.current, to);
  }

  /** Fires every timer due by now, earliest first; returns how many fired. */
  fireDue(): number {
    const due: Scheduled[] = [];
    const pending: Scheduled[] = [];
    // One pass: cancelled timers (every handler's timeout that was met) are dropped here too.
    for (const timer of this.timers) {
      if (!timer.cancelled) (timer.at <= this.current ? due : pending).push(timer);
    }
    this.timers = pending;
    due.sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const timer of due) timer.fn();
    return due.length;
  }
}
