/**
 * The delay router: moves scheduled records through the delay tiers and delivers them to their target topic
 * when due. Each tier's records fall due in arrival order, so a partition whose head is not due is paused until
 * shortly before it is (never a sleep, never a blocked poll); records due within moments, and remainders shorter
 * than the smallest tier, are waited out in memory, without holding up the records behind them. Offsets are
 * committed only below the oldest record still held, so a crash re-reads it. That makes delivery at-least-once:
 * after a crash, a record delivered while an older one was held may be delivered again (consumers of scheduled
 * records are idempotent by event id).
 */
import type { Logger } from "pino";
import { toMs } from "../../topics/duration.ts";
import { delayTopicName } from "../../topics/topic.ts";
import type { Clock, Timer } from "../clock.ts";
import { textHeaders } from "../headers.ts";
import type { BatchControl, ConsumedRecord, GroupConsumer, KafkaPort, Producer, RecordBatch } from "../kafka/port.ts";
import type { Metrics } from "../metrics.ts";
import { OutputBuffer } from "../output-buffer.ts";
import { PausedPartitions } from "../paused-partitions.ts";
import { DELAY_TIERS } from "../route.ts";
import { type StalledPartition, StalledPartitions } from "../stalled-partitions.ts";
import { TopicLimits } from "../topic-limits.ts";
import { DELAY_HEADER, type DelayStep, delayStep, type Outgoing } from "./delay-plan.ts";

export const DELAY_ROUTER_GROUP = "sluice-delay-router";

/** How long before a paused tier partition's head is due the router resumes it (a fetch takes tens of ms). */
const RESUME_LEAD_MS = 250;

interface PartitionState {
  /** Offsets waiting in memory for their remainder. */
  held: Map<bigint, Timer>;
  /** The offset after the last record this router has finished with (delivered, forwarded or held). */
  next: bigint;
}

interface Due {
  outgoing: Outgoing;
  state: PartitionState;
  topic: string;
  partition: number;
  offset: bigint;
}

export interface DelayRouterDeps {
  kafka: KafkaPort;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  stallAfterMs: number;
}

export class DelayRouter {
  private readonly deps: DelayRouterDeps;
  private readonly consumer: GroupConsumer;
  private producer: Producer | undefined;
  /** The tiers a record moves through; its target was checked by the processor that scheduled it. */
  private readonly limits: TopicLimits;
  private readonly stalls: StalledPartitions;
  private readonly log: Logger;
  private readonly partitions = new Map<string, PartitionState>();
  private readonly paused: PausedPartitions;
  /** Held records that fell due, waiting for the next flush. */
  private due: Due[] = [];
  private readonly smallestWaitMs = Math.min(...DELAY_TIERS.map(toMs).filter((ms) => ms > 0));
  private running = false;

  constructor(deps: DelayRouterDeps) {
    this.deps = deps;
    this.log = deps.log.child({ "sluice.processor": "delay-router" });
    this.paused = new PausedPartitions(deps.clock, this.log);
    this.stalls = new StalledPartitions(
      "delay-router",
      { ...deps, log: this.log, paused: this.paused },
      deps.stallAfterMs,
    );
    this.limits = new TopicLimits(DELAY_TIERS.map(delayTopicName));
    this.consumer = deps.kafka.consumer({
      groupId: DELAY_ROUTER_GROUP,
      autoCommit: false,
      readCommitted: true,
      // librdkafka sends one fetch per broker at a time: a resumed partition joins the next one. Short long-polls
      // keep that wait well inside RESUME_LEAD_MS.
      fetchWaitMaxMs: 100,
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Tier partitions whose writes have been failing for too long (see StalledPartitions). */
  stalled(): StalledPartition[] {
    return this.stalls.stalled();
  }

  async start(): Promise<void> {
    await this.limits.refresh(this.deps.kafka);
    this.producer = this.deps.kafka.producer({ lingerMs: 1, ...this.limits.producerConfig() });
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe(DELAY_TIERS.map(delayTopicName));
    this.running = true;
    await this.consumer.run({ partitionsAtOnce: 8, eachBatch: (batch, control) => this.onBatch(batch, control) });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.paused.cancelAll();
    for (const state of this.partitions.values()) for (const timer of state.held.values()) timer.cancel();
    await this.consumer.disconnect();
    await this.producer?.disconnect();
  }

  private async onBatch(batch: RecordBatch, control: BatchControl): Promise<void> {
    const now = this.deps.clock.now();
    const id = `${batch.topic}/${batch.partition}`;
    const state = this.partitions.get(id) ?? { held: new Map(), next: 0n };
    this.partitions.set(id, state);
    const outgoing: Outgoing[] = [];
    let resumeAt: number | undefined;
    let last: ConsumedRecord | undefined;
    for (const record of batch.records) {
      const headers = textHeaders(record.headers);
      const hopDueAt = Number(headers[DELAY_HEADER.hopDueAt] ?? 0);
      if (hopDueAt - now > RESUME_LEAD_MS) {
        // The head is not due: the rest of the tier's partition is not either. Wake up a little early, so the
        // fetch is done by the time it is due.
        resumeAt = hopDueAt - RESUME_LEAD_MS;
        break;
      }
      const step = this.step(record, headers, now);
      if (step.kind === "hold") this.hold(state, record, headers, step.until);
      else outgoing.push(step);
      last = record;
    }
    if (last && !control.isStale()) {
      const next = BigInt(last.offset) + 1n;
      // Not committed past them when it fails: the batch is read again (its held records held again).
      const written = await this.stalls.attempt(batch, control.pause, async () => {
        await this.send(outgoing);
        state.next = next;
        await this.commit(batch.topic, batch.partition, state);
      });
      if (!written) return;
      control.resolveOffset(last.offset);
    }
    if (resumeAt !== undefined) this.paused.pauseUntil(control.pause, resumeAt, batch);
  }

  /** The record's next step; a delivery's lateness is measured. */
  private step(record: ConsumedRecord, headers: Record<string, string>, now: number): DelayStep {
    const step = delayStep(record, headers, now, this.smallestWaitMs);
    if (step.lateMs !== undefined) this.deps.metrics.delayLateness.observe(step.lateMs / 1000);
    return step;
  }

  private async send(outgoing: Outgoing[]): Promise<void> {
    if (outgoing.length === 0) return;
    const out = new OutputBuffer();
    for (const { topic, message } of outgoing) out.add(topic, message);
    await this.producer?.send(out.topicMessages());
  }

  /** Keeps a record due within moments in memory, without holding up the records behind it. */
  private hold(state: PartitionState, record: ConsumedRecord, headers: Record<string, string>, until: number): void {
    const { clock } = this.deps;
    const offset = BigInt(record.offset);
    const wake = () => {
      const step = this.step(record, headers, clock.now());
      if (step.kind === "hold") {
        // Timers may fire a millisecond early against the wall clock; a hop may leave a remainder.
        state.held.set(offset, clock.after(step.until - clock.now(), wake));
        return;
      }
      this.queueDue([{ outgoing: step, state, topic: record.topic, partition: record.partition, offset }]);
    };
    state.held.set(offset, clock.after(until - clock.now(), wake));
  }

  /** Records falling due together leave together: one produce and one commit per partition. */
  private queueDue(due: Due[]): void {
    const first = this.due.length === 0;
    this.due.push(...due);
    if (first) this.deps.clock.after(0, () => void this.flushDue());
  }

  private async flushDue(): Promise<void> {
    const due = this.due.splice(0);
    const partitions = new Map(due.map((d) => [`${d.topic}/${d.partition}`, d]));
    for (const d of partitions.values()) this.stalls.writing(d.topic, d.partition);
    try {
      await this.send(due.map((d) => d.outgoing));
      for (const d of due) d.state.held.delete(d.offset);
      await Promise.all([...partitions.values()].map((d) => this.commit(d.topic, d.partition, d.state)));
      for (const d of partitions.values()) this.stalls.written(d.topic, d.partition);
    } catch (error) {
      // Not committed past them: they are sent again after a backoff (or by the next owner after a restart).
      const backoffMs = Math.max(
        ...[...partitions.values()].map((d) => this.stalls.failed(d.topic, d.partition, error)),
      );
      this.log.error({ err: error, records: due.length, backoffMs }, "delivery of held records failed");
      this.deps.clock.after(backoffMs, () => {
        if (this.running) this.queueDue(due);
      });
    }
  }

  /** Commits below the oldest held record, or past the last finished one when none is held. */
  private async commit(topic: string, partition: number, state: PartitionState): Promise<void> {
    const oldestHeld = [...state.held.keys()].reduce<bigint | undefined>(
      (min, o) => (min === undefined || o < min ? o : min),
      undefined,
    );
    const offset = oldestHeld ?? state.next;
    if (offset > 0n) await this.consumer.commit([{ topic, partition, offset: String(offset) }]);
  }
}
