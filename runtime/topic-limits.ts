/**
 * How large a record each topic a processor writes accepts (its `max.message.bytes`). The producer is sized from
 * these limits, and a record that would not fit is known before it is written: a record the broker refuses is
 * retried with its batch, so one oversized copy would keep its partition from ever committing again.
 */
import { headersBytes } from "./headers.ts";
import type { KafkaPort, OutgoingMessage, ProducerConfig } from "./kafka/port.ts";

/** The broker's default `message.max.bytes`, which a topic without its own `max.message.bytes` inherits. */
export const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** A record batch's framing around its one record (the 61-byte v2 batch header, the record's varint fields). */
const FRAMING_BYTES = 61 + 40;

/** The size of a batch holding only `message`, at most: what a topic's max.message.bytes is compared with. */
export function recordBytes(message: OutgoingMessage): number {
  const key = message.key === null ? 0 : Buffer.byteLength(message.key);
  return FRAMING_BYTES + key + (message.value?.length ?? 0) + headersBytes(message.headers);
}

export class TopicLimits {
  private readonly topics: readonly string[];
  private limits = new Map<string, number>();
  /** The producer's own limit, once it is sized: a record over it is refused before it reaches a broker. */
  private producerMax = Number.POSITIVE_INFINITY;
  private refreshing: Promise<void> | undefined;

  /** The limits of `topics`; `refresh` reads them from a cluster. */
  constructor(topics: readonly string[]) {
    this.topics = [...new Set(topics)];
  }

  /** Reads the limits again; partitions that ask while a read is under way share it. */
  refresh(kafka: KafkaPort): Promise<void> {
    this.refreshing ??= this.read(kafka).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async read(kafka: KafkaPort): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    const configs = await admin.topicConfigs(this.topics, ["max.message.bytes"]).finally(() => admin.disconnect());
    this.limits = new Map(
      [...configs].map(([topic, config]) => [
        topic,
        Number(config["max.message.bytes"]) || BROKER_DEFAULT_MAX_MESSAGE_BYTES,
      ]),
    );
  }

  /** The largest record `topic` takes from this producer (the broker's default for a topic not read). */
  maxBytes(topic: string): number {
    return Math.min(this.producerMax, this.topicMax(topic));
  }

  fits(topic: string, message: OutgoingMessage): boolean {
    return recordBytes(message) <= this.maxBytes(topic);
  }

  /**
   * A producer that writes whatever fits: one record up to the largest limit, and batches no larger than the
   * smallest (librdkafka packs records of a partition into one batch up to `batch.size`, and a broker refuses a
   * batch over its topic's limit as a whole).
   */
  producerConfig(): Required<Pick<ProducerConfig, "maxMessageBytes" | "batchBytes">> {
    const limits = this.topics.map((t) => this.topicMax(t));
    this.producerMax = Math.max(1_000, ...limits);
    return {
      maxMessageBytes: this.producerMax,
      batchBytes: Math.max(1, Math.min(BROKER_DEFAULT_MAX_MESSAGE_BYTES, ...limits) - FRAMING_BYTES),
    };
  }

  private topicMax(topic: string): number {
    return this.limits.get(topic) ?? BROKER_DEFAULT_MAX_MESSAGE_BYTES;
  }
}
