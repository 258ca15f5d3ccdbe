/**
 * The delay router: moves scheduled records through the delay tiers and delivers them to their target topic
 * when due. Each tier's records fall due in arrival order, so a partition whose head is not due is paused until
 * shortly before it is (never a sleep, never a blocked poll); records due within moments, and remainders shorter
 * than the smallest tier, are waited out in memory, without holding up the records behind them. Offsets are
 * committed only below the oldest record still held, so a crash re-reads it. That makes delivery at-least-once: after a crash, a record delivered while an
 * older one was held may be delivered again (consumers of scheduled records are idempotent by event id).
 */
import type { KafkaJS } from "@confluentinc/kafka-javascript";
import type { Logger } from "pino";
import { DELAY_TIERS } from "../../topics/catalog.ts";
import { toMs } from "../../topics/duration.ts";
import { delayTopicName } from "../../topics/topic.ts";
import type { Clock, Timer } from "./clock.ts";
import { DELAY_HEADER, nextHop } from "./delay-plan.ts";
import { HEADER, replaceHeaders } from "./headers.ts";
import {
  BOUNDED_PREFETCH,
  type Consumer,
  createProducer,
  type Kafka,
  type KafkaMessage,
  type OutgoingMessage,
  type Producer,
  recordHeaders,
  textHeaders,
} from "./kafka-client.ts";
import type { Metrics } from "./metrics.ts";
import { OutputBuffer } from "./output-buffer.ts";
import { PausedPartitions } from "./paused-partitions.ts";
import { type StalledPartition, StalledPartitions } from "./stalled-partitions.ts";
import { TopicLimits } from "./topic-limits.ts";

export const DELAY_ROUTER_GROUP = "sluice-delay-router";

type Message = KafkaMessage;
type Outgoing = { topic: string; message: OutgoingMessage };

/** How long before a paused tier partition's head is due the router resumes it (a fetch takes tens of ms). */
const RESUME_LEAD_MS = 250;

interface PartitionState {
  /** Offsets waiting in memory for their remainder. */
  held: Map<bigint, Timer>;
  /** The offset after the last record this router has finished with (delivered, forwarded or held). */
  next: bigint;
}

/** The headers that steer a record through the tiers; its target does not get them. */
const HOP_HEADERS: ReadonlySet<string> = new Set([DELAY_HEADER.hopDueAt]);
const DELAY_HEADERS: ReadonlySet<string> = new Set([DELAY_HEADER.target, DELAY_HEADER.hopDueAt]);

export class DelayRouter {
  private readonly consumer: Consumer;
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  /** The tiers a record moves through; the targets were checked by the processor that scheduled it. */
  private readonly limits = new TopicLimits(DELAY_TIERS.map(delayTopicName));
  private readonly stalls: StalledPartitions;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly partitions = new Map<string, PartitionState>();
  private readonly paused: PausedPartitions;
  /** Held records that fell due, waiting for the next flush. */
  private due: { outgoing: Outgoing; state: PartitionState; topic: string; partition: number; offset: bigint }[] = [];
  private readonly smallestWaitMs = Math.min(...DELAY_TIERS.map(toMs).filter((ms) => ms > 0));
  private running = false;

  constructor(kafka: Kafka, deps: { clock: Clock; metrics: Metrics; log: Logger; stallAfterMs?: number | undefined }) {
    this.kafka = kafka;
    this.clock = deps.clock;
    this.metrics = deps.metrics;
    this.log = deps.log.child({ "sluice.processor": "delay-router" });
    this.paused = new PausedPartitions(this.clock, this.log);
    this.stalls = new StalledPartitions("delay-router", deps, deps.stallAfterMs ?? 60_000);
    this.consumer = kafka.consumer({
      ...BOUNDED_PREFETCH,
      // librdkafka sends one fetch per broker at a time: a resumed partition joins the next one. Short long-polls
      // keep that wait well inside RESUME_LEAD_MS.
      "fetch.wait.max.ms": 100,
      kafkaJS: { groupId: DELAY_ROUTER_GROUP, fromBeginning: true, autoCommit: false },
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
    await this.limits.refresh();
    this.producer = createProducer(this.kafka, { "linger.ms": 1, ...this.limits.producerConfig() });
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: DELAY_TIERS.map(delayTopicName) });
    this.running = true;
    await this.consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 8,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.paused.cancelAll();
    for (const state of this.partitions.values()) for (const timer of state.held.values()) timer.cancel();
    await this.consumer.disconnect();
    await this.producer?.disconnect();
  }

  private async onBatch({ batch, resolveOffset, pause, isStale }: KafkaJS.EachBatchPayload): Promise<void> {
    const now = this.clock.now();
    const id = `${batch.topic}/${batch.partition}`;
    const state = this.partitions.get(id) ?? { held: new Map(), next: 0n };
    this.partitions.set(id, state);
    const outgoing: Outgoing[] = [];
    let resumeAt: number | undefined;
    let last: Message | undefined;
    for (const message of batch.messages) {
      const headers = textHeaders(message.headers);
      const hopDueAt = Number(headers[DELAY_HEADER.hopDueAt] ?? 0);
      if (hopDueAt - now > RESUME_LEAD_MS) {
        // The head is not due: the rest of the tier's partition is not either. Wake up a little early, so the
        // fetch is done by the time it is due.
        resumeAt = hopDueAt - RESUME_LEAD_MS;
        break;
      }
      const step = this.step(message, headers, now);
      if (step.kind === "hold") this.hold(state, batch.topic, batch.partition, message, headers, step.until);
      else outgoing.push(step.outgoing);
      last = message;
    }
    if (last && !isStale()) {
      this.stalls.writing(batch.topic, batch.partition);
      try {
        await this.send(outgoing);
        state.next = BigInt(last.offset) + 1n;
        await this.commit(batch.topic, batch.partition, state);
      } catch (error) {
        // Not committed past them: the batch is read again after a backoff (its held records are held again).
        const backoffMs = this.stalls.failed(batch.topic, batch.partition, error);
        this.log.error(
          { err: error, "kafka.topic": batch.topic, "kafka.partition": batch.partition, backoffMs },
          "could not forward the batch: it is read again",
        );
        this.paused.pauseUntil(pause, this.clock.now() + backoffMs, batch);
        return;
      }
      this.stalls.written(batch.topic, batch.partition);
      resolveOffset(last.offset);
    }
    if (resumeAt !== undefined) this.paused.pauseUntil(pause, resumeAt, batch);
  }

  private async send(outgoing: Outgoing[]): Promise<void> {
    if (outgoing.length === 0 || !this.producer) return;
    const out = new OutputBuffer();
    for (const { topic, message } of outgoing) out.add(topic, message);
    await this.producer.sendBatch({ topicMessages: out.topicMessages() });
  }

  /** What to do with a record now: deliver it, send it down to the next tier, or hold it in memory until `until`. */
  private step(
    message: Message,
    headers: Record<string, string>,
    now: number,
  ): { kind: "send"; outgoing: Outgoing } | { kind: "hold"; until: number } {
    const hopDueAt = Number(headers[DELAY_HEADER.hopDueAt] ?? 0);
    if (hopDueAt > now) return { kind: "hold", until: hopDueAt };
    const dueAt = Number(headers[HEADER.dueAt] ?? 0);
    const remaining = dueAt - now;
    if (remaining <= 0) return { kind: "send", outgoing: this.delivery(message, headers, dueAt, now) };
    if (remaining < this.smallestWaitMs) return { kind: "hold", until: dueAt };
    const hop = nextHop(remaining, now);
    const forwarded = replaceHeaders(recordHeaders(message), HOP_HEADERS, {
      [DELAY_HEADER.hopDueAt]: String(hop.hopDueAt),
    });
    return {
      kind: "send",
      outgoing: { topic: hop.topic, message: { key: message.key, value: message.value, headers: forwarded } },
    };
  }

  private delivery(message: Message, headers: Record<string, string>, dueAt: number, now: number): Outgoing {
    this.metrics.delayLateness.observe(Math.max(0, now - dueAt) / 1000);
    // The record's timestamp is the moment it was found due: never before its due-at.
    const delivered = {
      key: message.key,
      value: message.value,
      headers: replaceHeaders(recordHeaders(message), DELAY_HEADERS, {}),
      timestamp: String(now),
    };
    return { topic: headers[DELAY_HEADER.target] ?? "", message: delivered };
  }

  /** Keeps a record due within moments in memory, without holding up the records behind it. */
  private hold(
    state: PartitionState,
    topic: string,
    partition: number,
    message: Message,
    headers: Record<string, string>,
    until: number,
  ): void {
    const offset = BigInt(message.offset);
    const wake = () => {
      const step = this.step(message, headers, this.clock.now());
      if (step.kind === "hold") {
        // Timers may fire a millisecond early against the wall clock; a hop may leave a remainder.
        state.held.set(offset, this.clock.after(step.until - this.clock.now(), wake));
        return;
      }
      this.due.push({ outgoing: step.outgoing, state, topic, partition, offset });
      // Records falling due together leave together: one produce and one commit per partition.
      if (this.due.length === 1) setImmediate(() => void this.flushDue());
    };
    state.held.set(offset, this.clock.after(until - this.clock.now(), wake));
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
      this.clock.after(backoffMs, () => {
        if (!this.running) return;
        this.due.push(...due);
        if (this.due.length === due.length) setImmediate(() => void this.flushDue());
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
    if (offset > 0n) await this.consumer.commitOffsets([{ topic, partition, offset: String(offset) }]);
  }
}
