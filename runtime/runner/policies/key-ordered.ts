/**
 * Key-ordered: non-blocking for every other key, but the later records of a failing key wait behind it, parked in
 * the tiers, so that per-key order survives the retry without stalling the partition. Which keys wait where is
 * kept in memory (KeyOrder) and read back from the tiers when partitions are assigned, so a restart or a
 * rebalance keeps the order too.
 */
import type { Logger } from "pino";
import type { KafkaPort, TopicPartition } from "../../kafka/port.ts";
import { committedOffsets } from "../../kafka/whole-topic.ts";
import type { OutputBuffer } from "../../output-buffer.ts";
import type { Route } from "../../route.ts";
import type { FailureCopies } from "../failure-copies.ts";
import { attemptAsRead, type ReadRecord } from "../read-record.ts";
import { KeyOrder } from "./key-order.ts";
import { DONE, type KeyBookkeeping, type Outcome, type RetryPolicy } from "./retry-policy.ts";

export class KeyOrdered implements RetryPolicy {
  readonly sequential = false;
  readonly serializesPartition = true;
  private readonly route: Route;
  private readonly copies: FailureCopies;
  private readonly deps: { kafka: KafkaPort; log: Logger };
  private readonly order = new KeyOrder();
  readonly keys: KeyBookkeeping = {
    mark: (keys) => this.order.snapshotKeys(keys),
    restore: (mark) => this.order.restoreKeys(mark),
  };

  constructor(route: Route, copies: FailureCopies, deps: { kafka: KafkaPort; log: Logger }) {
    this.route = route;
    this.copies = copies;
    this.deps = deps;
  }

  attempt(record: ReadRecord): number {
    return attemptAsRead(record);
  }

  admit(record: ReadRecord, out: OutputBuffer): boolean {
    const { key, tierIndex } = record;
    const decision = tierIndex < 0 ? this.order.onInput(key) : this.order.onRetry(key, tierIndex);
    if (decision.action === "process") return true;
    const written = this.copies.park(record, decision.tierIndex, out);
    if (written >= 0) this.order.added(key, written);
    return false;
  }

  succeeded(): void {}

  failed(record: ReadRecord, attempt: number, error: unknown, out: OutputBuffer): Outcome {
    // A failing record never moves to a tier below older records of its key.
    const { tiers } = this.route;
    const floor = Math.max(this.order.floorTier(record.key), record.tierIndex);
    const floored = tiers.map((tier, i) => tiers[Math.max(i, floor)] ?? tier);
    const written = this.copies.failed(record, attempt, error, floored, out);
    if (written >= 0) this.order.added(record.key, written);
    return DONE;
  }

  /**
   * Which keys of the new partitions have records waiting in the tiers, read from the group's committed offsets to
   * the tiers' ends, so that a new record of such a key still waits behind them. The runner reads the same records
   * from the same offsets, and each one read takes its key's count back down.
   */
  async assigned(assignment: TopicPartition[]): Promise<void> {
    const { route } = this;
    const partitions = assignment.filter((a) => a.topic === route.input).map((a) => a.partition);
    if (partitions.length === 0 || route.tierTopics.length === 0) return;
    const started = performance.now();
    try {
      const committed = await committedOffsets(this.deps.kafka, route.group, [...route.tierTopics]);
      const startOf = (topic: string, partition: number) => {
        const offset = committed.find((c) => c.topic === topic && c.partition === partition)?.offset ?? "-1";
        return Number(offset) >= 0 ? offset : undefined; // nothing committed yet: from the beginning, as the runner reads
      };
      let records = 0;
      await this.deps.kafka.readToEnd(
        route.tierTopics.flatMap((topic) =>
          partitions.map((partition) => ({ topic, partition, offset: startOf(topic, partition) })),
        ),
        (record) => {
          this.order.added(record.key?.toString() ?? "", route.tierTopics.indexOf(record.topic));
          records++;
        },
      );
      this.deps.log.info(
        { partitions, records, ms: Math.round(performance.now() - started) },
        "key order read back from the retry tiers",
      );
    } catch (error) {
      this.deps.log.error(
        { err: error },
        "could not read the retry tiers: new records of keys waiting there are not held back behind them",
      );
    }
  }

  revoked(): void {
    this.order.clear();
  }
}
