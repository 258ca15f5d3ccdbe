/**
 * Partitions that cannot make progress. A batch's outputs and offsets are written together; when that write
 * fails, nothing is committed and the batch is read again after a backoff. A partition whose write has been
 * failing (or hanging) for `afterMs` is stalled: `/health/ready` says so, and
 * `sluice_partition_stalled_since_seconds` shows since when, so it never stalls silently.
 */
import type { Logger } from "pino";
import type { Clock } from "./clock.ts";
import { kafkaFields } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { PausedPartitions } from "./paused-partitions.ts";

export interface StalledPartition {
  processor: string;
  topic: string;
  partition: number;
  /** Since when (epoch ms) its write has been failing or pending. */
  since: number;
  failures: number;
  error?: string;
}

const MAX_BACKOFF_MS = 10_000;

/** How long to wait after the `failures`th failure in a row: doubling from half a second, up to 10 s (a partition picks up within seconds of its dependency's return). */
export function backoffMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** (failures - 1));
}

export interface StalledPartitionsDeps {
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  paused: PausedPartitions;
}

export class StalledPartitions {
  private readonly processor: string;
  private readonly deps: StalledPartitionsDeps;
  private readonly afterMs: number;
  /** Partitions with a write pending or failing, by `topic/partition`. */
  private readonly writes = new Map<string, StalledPartition>();

  constructor(processor: string, deps: StalledPartitionsDeps, afterMs: number) {
    this.processor = processor;
    this.deps = deps;
    this.afterMs = afterMs;
  }

  /**
   * Writes a batch of `where`'s partition. When the write fails nothing of the batch is committed: the partition
   * pauses for a backoff and is read again then, until a write succeeds. Tells whether this one did.
   */
  async attempt(
    where: { topic: string; partition: number },
    pause: () => () => void,
    write: () => Promise<void>,
  ): Promise<boolean> {
    const { topic, partition } = where;
    this.writing(topic, partition);
    try {
      await write();
    } catch (error) {
      const waitMs = this.failed(topic, partition, error);
      this.deps.log.error(
        { err: error, ...kafkaFields(where), backoffMs: waitMs },
        "could not write a batch's records and offsets: it is read again",
      );
      this.deps.paused.pauseUntil(pause, this.deps.clock.now() + waitMs, where);
      return false;
    }
    this.written(topic, partition);
    return true;
  }

  /** A write of the partition's batch begins. */
  writing(topic: string, partition: number): void {
    const id = `${topic}/${partition}`;
    if (!this.writes.has(id)) {
      this.writes.set(id, { processor: this.processor, topic, partition, since: this.deps.clock.now(), failures: 0 });
    }
  }

  /** The write succeeded: the partition moved on. */
  written(topic: string, partition: number): void {
    const id = `${topic}/${partition}`;
    const write = this.writes.get(id);
    if (!write) return;
    this.writes.delete(id);
    if (write.failures > 0) this.deps.metrics.stalledSince.remove(this.labels(write));
  }

  /** The write failed; returns how long to wait before the batch is read again (doubling, up to 10 s). */
  failed(topic: string, partition: number, error: unknown): number {
    this.writing(topic, partition);
    const write = this.writes.get(`${topic}/${partition}`) as StalledPartition;
    write.failures++;
    write.error = error instanceof Error ? error.message : String(error);
    this.deps.metrics.writeFailures.inc({ processor: this.processor, topic });
    this.deps.metrics.stalledSince.set(this.labels(write), write.since / 1000);
    return backoffMs(write.failures);
  }

  /** Since when the partition's writes have been failing (undefined when its last one did not). */
  failingSince(topic: string, partition: number): number | undefined {
    const write = this.writes.get(`${topic}/${partition}`);
    return write && write.failures > 0 ? write.since : undefined;
  }

  /** Whether the partition's last write failed. */
  failing(topic: string, partition: number): boolean {
    return (this.writes.get(`${topic}/${partition}`)?.failures ?? 0) > 0;
  }

  /** Partitions whose write has been failing or pending for `afterMs` or more. */
  stalled(): StalledPartition[] {
    const now = this.deps.clock.now();
    return [...this.writes.values()].filter((w) => now - w.since >= this.afterMs);
  }

  /** On revocation: the partitions' new owner reports its own. */
  clear(): void {
    for (const write of this.writes.values()) {
      if (write.failures > 0) this.deps.metrics.stalledSince.remove(this.labels(write));
    }
    this.writes.clear();
  }

  private labels(write: StalledPartition) {
    return { processor: this.processor, topic: write.topic, partition: String(write.partition) };
  }
}
