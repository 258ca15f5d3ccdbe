/**
 * Exactly-once writes, committed in groups. A producer runs one transaction at a time; batches that finish
 * while one is in flight join the next, which carries all their records and all their offsets. Handlers never
 * wait for each other, and a busy processor commits fewer, larger transactions. A transaction that failed before
 * its commit was asked for is aborted, and its batches are read again. One whose commit failed and could not be
 * cleanly aborted (the broker went away meanwhile, a timeout, a fatal error) may or may not have committed: that is
 * `COMMIT_UNKNOWN`. The producer is then replaced: a new one with the same transactional id settles that
 * transaction when it starts (the coordinator completes or aborts it), and only then can the broker's committed
 * offsets say where each partition goes on from (`recovered()`; the runner reads them).
 */
import type { Logger } from "pino";
import { SluiceError } from "../../topics/errors.ts";
import { type Clock, sleep } from "../clock.ts";
import type { GroupConsumer, Producer, TopicPartitionOffset } from "../kafka/port.ts";
import { OutputBuffer } from "../output-buffer.ts";
import { backoffMs } from "../stalled-partitions.ts";

interface Pending {
  /** The next offset to read of the batch's partition. */
  next: TopicPartitionOffset;
  out: OutputBuffer;
  done: PromiseWithResolvers<void>;
}

/** How a GroupCommit makes a new producer (same transactional id) when it must replace its own. */
export interface ProducerRenewal {
  newProducer: () => Producer;
  log: Logger;
  clock: Clock;
}

/** How long an old producer gets to close before it is left behind. */
const CLOSE_OLD_MS = 5_000;

export class GroupCommit {
  private producer: Producer;
  private readonly renewal: ProducerRenewal;
  /** A replacement under way, after a COMMIT_UNKNOWN. */
  private renewing: Promise<void> | undefined;
  /** The producer failed and no new one has started yet. */
  private broken = false;
  private closed = false;
  private readonly consumer: GroupConsumer;
  private pending: Pending[] = [];
  private inFlight: Promise<void> | undefined;
  /** Told how long each committed transaction took, in seconds. */
  private readonly observe: (seconds: number) => void;

  constructor(
    producer: Producer,
    consumer: GroupConsumer,
    renewal: ProducerRenewal,
    observe: (seconds: number) => void = () => {},
  ) {
    this.producer = producer;
    this.renewal = renewal;
    this.consumer = consumer;
    this.observe = observe;
  }

  /** Resolves once a committed transaction holds `out` and the offset; rejects if that transaction aborted. */
  submit(next: TopicPartitionOffset, out: OutputBuffer): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.pending.push({ next, out, done });
    if (!this.inFlight) this.inFlight = this.drain();
    return done.promise;
  }

  /** Waits for everything submitted so far. */
  async idle(): Promise<void> {
    await this.inFlight;
  }

  /** Resolves once no replacement of the producer is under way (the last unknown transaction is settled). */
  async recovered(): Promise<void> {
    await this.renewing;
  }

  /** The runner stops: a replacement under way gives up (the broker may be gone for good), nothing waits for one. */
  closing(): void {
    this.closed = true;
  }

  async close(): Promise<void> {
    this.closing();
    await this.renewing;
    if (!this.broken) await this.producer.disconnect();
  }

  /** A new producer, tried until it starts (the broker may still be out of reach); the old one is let go. */
  private renew(): void {
    const { newProducer, log, clock } = this.renewal;
    this.renewing ??= (async () => {
      this.broken = true;
      const old = this.producer;
      await Promise.race([old.disconnect().catch(() => {}), sleep(clock, CLOSE_OLD_MS)]);
      for (let attempt = 1; !this.closed; attempt++) {
        const next = newProducer();
        try {
          await next.connect();
          this.producer = next;
          this.broken = false;
          log.warn("a new transactional producer is ready: the old one's last transaction is settled");
          return;
        } catch (error) {
          await next.disconnect().catch(() => {});
          const waitMs = backoffMs(attempt);
          log.warn({ err: error, backoffMs: waitMs }, "could not start a new transactional producer yet");
          await sleep(clock, waitMs);
        }
      }
    })().finally(() => {
      this.renewing = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending.splice(0);
      try {
        await this.commit(group);
        for (const p of group) p.done.resolve();
      } catch (error) {
        for (const p of group) p.done.reject(error);
      }
    }
    this.inFlight = undefined;
  }

  private async commit(group: Pending[]): Promise<void> {
    await this.renewing;
    if (this.broken) throw new SluiceError("NOT_STARTED", "the processor is stopping without a working producer");
    const started = performance.now();
    // A producer that cannot begin one (left in a transaction whose abort failed, or failed fatally) is replaced.
    const transaction = await this.producer.transaction().catch((error: unknown) => {
      this.renew();
      throw error;
    });
    let committing = false;
    try {
      const records = new OutputBuffer();
      for (const { out } of group) records.merge(out);
      await transaction.send(records.topicMessages());
      await transaction.sendOffsets(
        this.consumer,
        group.map((p) => p.next),
      );
      committing = true;
      await transaction.commit();
      this.observe((performance.now() - started) / 1000);
    } catch (error) {
      const abortable = !committing || (error as { abortable?: boolean }).abortable === true;
      const aborted =
        abortable &&
        (await transaction.abort().then(
          () => true,
          () => false,
        ));
      if (aborted) throw error;
      this.renew(); // it is left in its transaction
      if (!committing) throw error; // never asked to commit: the coordinator aborts it
      throw new SluiceError(
        "COMMIT_UNKNOWN",
        `a transaction failed and could not be aborted, so it may have committed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
