/**
 * Gathers the records of the partitions a sink is handed at the same time into batches, and writes one batch at a
 * time: a batch is written once it holds `maxRecords` records or `maxBytes` bytes, or `lingerMs` after its first
 * record came. While one batch is written the next one fills, so a busy sink writes full batches back to back.
 */
import type { Clock, Timer } from "../clock.ts";

export interface BatchLimits {
  maxRecords: number;
  maxBytes: number;
  lingerMs: number;
}

/** Writes a batch; tells, for each record in order, the error it failed with, or undefined once acknowledged. */
export type WriteBatch<R> = (records: R[]) => Promise<(unknown | undefined)[]>;

interface Batch<R> {
  records: R[];
  bytes: number;
  written: PromiseWithResolvers<(unknown | undefined)[]>;
  linger?: Timer;
}

/** Something else the external system must not see beside a write (a staged sink's flush). */
interface Task {
  run(): Promise<void>;
}

export class SinkBatcher<R extends { bytes: number }> {
  private readonly limits: BatchLimits;
  private readonly clock: Clock;
  private readonly writeBatch: WriteBatch<R>;
  private open: Batch<R> | undefined;
  private readonly ready: (Batch<R> | Task)[] = [];
  private writing: Promise<void> | undefined;

  constructor(limits: BatchLimits, clock: Clock, writeBatch: WriteBatch<R>) {
    this.limits = limits;
    this.clock = clock;
    this.writeBatch = writeBatch;
  }

  /** Adds records to the batches; resolves, once every batch they joined was written, with each one's outcome. */
  async add(records: readonly R[]): Promise<(unknown | undefined)[]> {
    const parts: { batch: Batch<R>; from: number; count: number }[] = [];
    for (const record of records) {
      let batch = this.open;
      if (batch && batch.bytes + record.bytes > this.limits.maxBytes) {
        this.seal();
        batch = undefined;
      }
      if (!batch) {
        batch = { records: [], bytes: 0, written: Promise.withResolvers() };
        this.open = batch;
      }
      const part = parts.at(-1);
      if (part?.batch === batch) part.count++;
      else parts.push({ batch, from: batch.records.length, count: 1 });
      batch.records.push(record);
      batch.bytes += record.bytes;
      if (batch.records.length >= this.limits.maxRecords) this.seal();
    }
    const open = this.open;
    if (open && !open.linger) {
      if (this.limits.lingerMs <= 0) this.seal();
      else open.linger = this.clock.after(this.limits.lingerMs, () => this.open === open && this.seal());
    }
    const outcomes = await Promise.all(parts.map((p) => p.batch.written.promise));
    return parts.flatMap((p, i) => (outcomes[i] as (unknown | undefined)[]).slice(p.from, p.from + p.count));
  }

  /** Runs `task` once the batches sealed so far are written, before the next one is. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const done = Promise.withResolvers<T>();
    this.ready.push({ run: () => task().then(done.resolve, done.reject) });
    this.writing ??= this.drain();
    return done.promise;
  }

  /** Waits until every batch so far is written. */
  async idle(): Promise<void> {
    this.seal();
    while (this.writing) await this.writing;
  }

  private seal(): void {
    const batch = this.open;
    if (!batch) return;
    this.open = undefined;
    batch.linger?.cancel();
    this.ready.push(batch);
    this.writing ??= this.drain();
  }

  private async drain(): Promise<void> {
    for (let batch = this.ready.shift(); batch; batch = this.ready.shift()) {
      if ("run" in batch) {
        await batch.run();
        continue;
      }
      try {
        batch.written.resolve(await this.writeBatch(batch.records));
      } catch (error) {
        batch.written.resolve(batch.records.map(() => error));
      }
    }
    this.writing = undefined;
  }
}
