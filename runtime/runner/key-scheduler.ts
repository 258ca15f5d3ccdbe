/**
 * Runs one batch's records: one at a time, or per key (different keys of the partition at once, each key in
 * order: "virtual partitions"), starting none but the first after a deadline. Only a gap-free prefix of the
 * batch counts as processed; records finished past an unfinished one are read again, so their outputs are
 * dropped and the retry policy's bookkeeping of their keys is put back. A record whose partition must wait
 * (`blocked`: the blocking policy's backoff, or a dependency's outage) is unfinished, and no record starts after it.
 */
import type { Clock } from "../clock.ts";
import { OutputBuffer } from "../output-buffer.ts";
import type { KeyMark, Outcome, RetryPolicy } from "./policies/retry-policy.ts";
import type { ReadRecord } from "./read-record.ts";

export interface ScheduledBatch {
  /** How many records, from the start, are finished; their outputs are in `out`. */
  processed: number;
  /** Blocking: the partition waits until then, and the record at `processed` is read again. */
  blockedUntil?: number;
  out: OutputBuffer;
}

export type ProcessRecord = (record: ReadRecord, out: OutputBuffer) => Promise<Outcome>;

export class KeyScheduler {
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;
  private readonly keyConcurrency: number;

  constructor(policy: RetryPolicy, clock: Clock, keyConcurrency: number) {
    this.policy = policy;
    this.clock = clock;
    this.keyConcurrency = policy.sequential ? 1 : keyConcurrency;
  }

  run(records: readonly ReadRecord[], deadline: number, process: ProcessRecord): Promise<ScheduledBatch> {
    return this.keyConcurrency <= 1 ? this.inOrder(records, deadline, process) : this.byKey(records, deadline, process);
  }

  private async inOrder(records: readonly ReadRecord[], deadline: number, process: ProcessRecord) {
    const out = new OutputBuffer();
    for (const [i, record] of records.entries()) {
      if (i > 0 && this.clock.now() >= deadline) return { processed: i, out };
      const outcome = await process(record, out);
      if (outcome.kind === "blocked") return { processed: i, blockedUntil: outcome.retryAt, out };
    }
    return { processed: records.length, out };
  }

  private async byKey(records: readonly ReadRecord[], deadline: number, process: ProcessRecord) {
    const byKey = new Map<string, number[]>();
    for (const [i, record] of records.entries()) {
      const list = byKey.get(record.key) ?? [];
      list.push(i);
      byKey.set(record.key, list);
    }
    const queues = [...byKey.values()];
    const outs = records.map(() => new OutputBuffer());
    const done = records.map(() => false);
    const ran = records.map(() => false);
    let blockedUntil: number | undefined;
    // Each record's key bookkeeping before it ran, to put back for the records that are read again.
    const { keys } = this.policy;
    const before = new Map<number, KeyMark>();
    const workers = Array.from({ length: Math.min(this.keyConcurrency, queues.length) }, async () => {
      for (let queue = queues.shift(); queue; queue = queues.shift()) {
        for (const i of queue) {
          if ((i > 0 && this.clock.now() >= deadline) || blockedUntil !== undefined) return;
          const record = records[i] as ReadRecord;
          if (keys) before.set(i, keys.mark([record.key]));
          const outcome = await process(record, outs[i] as OutputBuffer);
          ran[i] = true;
          if (outcome.kind === "blocked") {
            blockedUntil = Math.min(blockedUntil ?? outcome.retryAt, outcome.retryAt);
            return;
          }
          done[i] = true;
        }
      }
    });
    await Promise.all(workers);
    const unfinished = done.indexOf(false);
    const processed = unfinished < 0 ? records.length : unfinished;
    const out = new OutputBuffer();
    for (const buffer of outs.slice(0, processed)) out.merge(buffer);
    const scheduled = { processed, out, ...(blockedUntil === undefined ? {} : { blockedUntil }) };
    if (!keys) return scheduled;
    const undone = new Set<string>();
    for (let i = processed; i < records.length; i++) {
      const key = (records[i] as ReadRecord).key;
      if (undone.has(key)) continue;
      undone.add(key);
      // A key's records run in order, so its first record past the prefix holds the state to go back to.
      const mark = before.get(i);
      if (ran[i] && mark) keys.restore(mark);
    }
    return scheduled;
  }
}
