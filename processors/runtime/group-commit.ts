/**
 * Exactly-once writes, committed in groups. A producer runs one transaction at a time; batches that finish
 * while one is in flight join the next, which carries all their records and all their offsets. Handlers never
 * wait for each other, and a busy processor commits fewer, larger transactions.
 */
import type { Consumer, Producer } from "./kafka-client.ts";
import { OutputBuffer } from "./output-buffer.ts";

interface Pending {
  topic: string;
  partition: number;
  nextOffset: string;
  out: OutputBuffer;
  done: PromiseWithResolvers<void>;
}

export class GroupCommit {
  private readonly producer: Producer;
  private readonly consumer: Consumer;
  private pending: Pending[] = [];
  private inFlight: Promise<void> | undefined;
  /** Told how long each committed transaction took, in seconds. */
  private readonly observe: (seconds: number) => void;

  constructor(producer: Producer, consumer: Consumer, observe: (seconds: number) => void = () => {}) {
    this.producer = producer;
    this.consumer = consumer;
    this.observe = observe;
  }

  /** Resolves once a committed transaction holds `out` and the offset; rejects if that transaction aborted. */
  submit(topic: string, partition: number, nextOffset: string, out: OutputBuffer): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.pending.push({ topic, partition, nextOffset, out, done });
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
      for (const { topic, messages } of records.topicMessages()) await transaction.send({ topic, messages });
      const offsets = new Map<string, { partition: number; offset: string }[]>();
      for (const p of group) {
        const partitions = offsets.get(p.topic) ?? [];
        partitions.push({ partition: p.partition, offset: p.nextOffset });
        offsets.set(p.topic, partitions);
      }
      await transaction.sendOffsets({
        consumer: this.consumer,
        topics: [...offsets].map(([topic, partitions]) => ({ topic, partitions })),
      });
      await transaction.commit();
      this.observe((performance.now() - started) / 1000);
    } catch (error) {
      await transaction.abort().catch(() => {});
      throw error;
    }
  }
}
