/**
 * The delay router: moves scheduled records through the delay tiers and delivers them to their target topic
 * when due. Each tier's records fall due in arrival order, so a partition whose head is not due is paused until
 * it is (never a sleep, never a blocked poll). A remainder shorter than the smallest tier is waited out in
 * memory, without holding up the records behind it; offsets are committed only below the oldest record still
 * held, so a crash re-reads it. That makes delivery at-least-once: after a crash, a record delivered while an
 * older one was held may be delivered again (consumers of scheduled records are idempotent by event id).
 */
import type { KafkaJS } from "@confluentinc/kafka-javascript";
import type { Logger } from "pino";
import { DELAY_TIERS } from "../../topics/catalog.ts";
import { toMs } from "../../topics/duration.ts";
import { delayTopicName } from "../../topics/topic.ts";
import type { Clock, Timer } from "./clock.ts";
import { DELAY_HEADER, nextHop } from "./delay-plan.ts";
import { HEADER, textHeaders } from "./headers.ts";
import { type Consumer, createProducer, type IHeaders, type Kafka, type Producer } from "./kafka-client.ts";
import type { Metrics } from "./metrics.ts";

export const DELAY_ROUTER_GROUP = "sluice-delay-router";

type Message = KafkaJS.KafkaMessage;

interface PartitionState {
  /** Offsets waiting in memory for their remainder. */
  held: Map<bigint, Timer>;
  /** The offset after the last record this router has finished with (delivered, forwarded or held). */
  next: bigint;
}

export class DelayRouter {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly partitions = new Map<string, PartitionState>();
  private readonly resumeTimers = new Set<Timer>();
  private readonly smallestWaitMs = Math.min(...DELAY_TIERS.map(toMs).filter((ms) => ms > 0));
  private running = false;

  constructor(kafka: Kafka, deps: { clock: Clock; metrics: Metrics; log: Logger }) {
    this.clock = deps.clock;
    this.metrics = deps.metrics;
    this.log = deps.log.child({ "sluice.processor": "delay-router" });
    this.consumer = kafka.consumer({
      "js.consumer.max.batch.size": 500,
      kafkaJS: { groupId: DELAY_ROUTER_GROUP, fromBeginning: true, autoCommit: false },
    });
    this.producer = createProducer(kafka, { "linger.ms": 1 });
  }

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: DELAY_TIERS.map(delayTopicName) });
    this.running = true;
    await this.consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: DELAY_TIERS.length,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const timer of this.resumeTimers) timer.cancel();
    for (const state of this.partitions.values()) for (const timer of state.held.values()) timer.cancel();
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }

  private async onBatch({ batch, resolveOffset, pause, isStale }: KafkaJS.EachBatchPayload): Promise<void> {
    const now = this.clock.now();
    const id = `${batch.topic}/${batch.partition}`;
    const state = this.partitions.get(id) ?? { held: new Map(), next: 0n };
    this.partitions.set(id, state);
    const outgoing: { topic: string; messages: { key: Buffer | null; value: Buffer | null; headers: IHeaders }[] }[] =
      [];
    let notDueUntil: number | undefined;
    let last: Message | undefined;
    for (const message of batch.messages) {
      const headers = textHeaders(message.headers);
      const hopDueAt = Number(headers[DELAY_HEADER.hopDueAt] ?? 0);
      if (hopDueAt > now) {
        notDueUntil = hopDueAt;
        break;
      }
      const dueAt = Number(headers[HEADER.dueAt] ?? 0);
      const remaining = dueAt - now;
      if (remaining <= 0) outgoing.push(this.delivery(message, headers, dueAt, now));
      else if (remaining >= this.smallestWaitMs) {
        const hop = nextHop(remaining, now);
        outgoing.push({
          topic: hop.topic,
          messages: [
            {
              key: message.key,
              value: message.value,
              headers: { ...headers, [DELAY_HEADER.hopDueAt]: String(hop.hopDueAt) },
            },
          ],
        });
      } else this.hold(state, batch.topic, batch.partition, message, headers, dueAt);
      last = message;
    }
    if (last && !isStale()) {
      if (outgoing.length) await this.producer.sendBatch({ topicMessages: outgoing });
      state.next = BigInt(last.offset) + 1n;
      await this.commit(batch.topic, batch.partition, state);
      resolveOffset(last.offset);
    }
    if (notDueUntil !== undefined) {
      const resume = pause();
      const timer = this.clock.after(notDueUntil - now, () => {
        this.resumeTimers.delete(timer);
        if (this.running) {
          try {
            resume();
          } catch {}
        }
      });
      this.resumeTimers.add(timer);
    }
  }

  private delivery(message: Message, headers: Record<string, string>, dueAt: number, now: number) {
    const { [DELAY_HEADER.target]: target, [DELAY_HEADER.hopDueAt]: _hop, ...kept } = headers;
    this.metrics.delayLateness.observe(Math.max(0, now - dueAt) / 1000);
    return { topic: target ?? "", messages: [{ key: message.key, value: message.value, headers: kept }] };
  }

  private hold(
    state: PartitionState,
    topic: string,
    partition: number,
    message: Message,
    headers: Record<string, string>,
    dueAt: number,
  ): void {
    const offset = BigInt(message.offset);
    const timer = this.clock.after(dueAt - this.clock.now(), async () => {
      try {
        await this.producer.sendBatch({ topicMessages: [this.delivery(message, headers, dueAt, this.clock.now())] });
        state.held.delete(offset);
        await this.commit(topic, partition, state);
      } catch (error) {
        // Not committed past it: the next owner, or this one after a restart, delivers it.
        this.log.error({ err: error, "kafka.topic": topic, "kafka.partition": partition }, "held delivery failed");
      }
    });
    state.held.set(offset, timer);
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
