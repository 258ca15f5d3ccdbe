/**
 * Exactly-once writes, committed in groups. A producer runs one transaction at a time; batches that finish
 * while one is in flight join the next, which carries all their records and all their offsets. Handlers never
 * wait for each other, and a busy processor commits fewer, larger transactions.
 */
import type { GroupConsumer, Producer, TopicPartitionOffset } from "../kafka/port.ts";
import { OutputBuffer } from "../output-buffer.ts";

interface Pending {
  /** The next offset to read of the batch's partition. */
  next: TopicPartitionOffset;
  out: OutputBuffer;
  done: PromiseWithResolvers<void>;
}

export class GroupCommit {
  private readonly producer: Producer;
  private readonly consumer: GroupConsumer;
  private pending: Pending[] = [];
  private inFlight: Promise<void> | undefined;
  /** Told how long each committed transaction took, in seconds. */
  private readonly observe: (seconds: number) => void;

  constructor(producer: Producer, consumer: GroupConsumer, observe: (seconds: number) => void = () => {}) {
    this.producer = producer;
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
    const started = performance.now();
    const transaction = await this.producer.transaction();
    try {
      const records = new OutputBuffer();
      for (const { out } of group) records.merge(out);
      await transaction.send(records.topicMessages());
      await transaction.sendOffsets(
        this.consumer,
        group.map((p) => p.next),
      );
      await transaction.commit();
      this.observe((performance.now() - started) / 1000);
    } catch (error) {
      await transaction.abort().catch(() => {});
      throw error;
    }
  }
}
