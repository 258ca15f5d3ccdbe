/**
 * Partitions paused until a moment: a retry tier whose head is not due, a blocked partition, a delay tier.
 * Each resumes at its moment unless `cancelAll` came first; a partition revoked meanwhile cannot be resumed,
 * and its new owner reads it from the committed offset anyway.
 */
import type { Logger } from "pino";
import type { Clock, Timer } from "./clock.ts";
import { kafkaFields } from "./logger.ts";

export class PausedPartitions {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timers = new Set<Timer>();

  constructor(clock: Clock, log: Logger) {
    this.clock = clock;
    this.log = log;
  }

  /** Pauses with `pause` (a batch's own, which returns its resume) until `at`. */
  pauseUntil(pause: () => () => void, at: number, where: { topic: string; partition: number }): void {
    const resume = pause();
    const timer = this.clock.after(at - this.clock.now(), () => {
      this.timers.delete(timer);
      try {
        resume();
      } catch (error) {
        this.log.debug({ err: error, ...kafkaFields(where) }, "resume after revoke");
      }
    });
    this.timers.add(timer);
  }

  /** On stop: nothing resumes any more. */
  cancelAll(): void {
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
  }
}
