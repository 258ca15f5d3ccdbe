/**
 * Every node's view of the broadcast configuration: `config.updates` (compacted, keyed by config key) read whole
 * outside any consumer group, so every node gets every change, then followed; Redis pub/sub as a fast path that
 * wakes nodes at once. Kafka is the source of truth: a node that was offline, or missed a Redis message, catches
 * up from it. A change applies only if its version is higher than the one held, so an old update arriving late
 * (through the other path, or republished) never overwrites a newer one.
 */
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ConsumedRecord, KafkaPort, PartitionFollower } from "../kafka/port.ts";
import { wholeTopic } from "../kafka/whole-topic.ts";
import type { AvroSerde } from "../serde/avro-serde.ts";

export const CONFIG_TOPIC = "config.updates";
/** The Redis channel of the fast path: each message a ConfigUpdated as JSON, the version as a string. */
export const CONFIG_CHANNEL = "sluice.config.updates";

export interface ConfigChange {
  key: string;
  /** Null: the entry was removed. */
  value: string | null;
  version: bigint;
  updatedAt: number;
  /** Which path brought it first. */
  via: "kafka" | "redis";
}

export interface ConfigSubscriberDeps {
  kafka: KafkaPort;
  serde: AvroSerde;
  log: Logger;
  /** The fast path; without it, changes arrive through Kafka alone. */
  redisUrl?: string | undefined;
  topic?: string;
}

export class ConfigSubscriber {
  private readonly deps: ConfigSubscriberDeps;
  private readonly topic: string;
  private readonly entries = new Map<string, ConfigChange>();
  private readonly listeners = new Set<(change: ConfigChange) => void>();
  private follower: PartitionFollower | undefined;
  private redis: Redis | undefined;
  /** Kafka records are decoded one after the other, in the order they were read. */
  private applying: Promise<void> = Promise.resolve();
  private ready = false;

  constructor(deps: ConfigSubscriberDeps) {
    this.deps = deps;
    this.topic = deps.topic ?? CONFIG_TOPIC;
  }

  /** Reads the topic to its end (the node is not ready before), then follows it and listens on Redis. */
  async start(): Promise<void> {
    const { kafka, log } = this.deps;
    this.follower = kafka.follow(await wholeTopic(kafka, this.topic), (record) => {
      this.applying = this.applying.then(() => this.fromKafka(record));
    });
    await this.follower.caughtUp;
    await this.applying;
    this.ready = true;
    log.info({ entries: this.entries.size }, "config loaded");
    if (this.deps.redisUrl) this.listen(this.deps.redisUrl);
  }

  get isReady(): boolean {
    return this.ready;
  }

  get(key: string): string | null | undefined {
    return this.entries.get(key)?.value;
  }

  version(key: string): bigint | undefined {
    return this.entries.get(key)?.version;
  }

  /** Every entry held, by key. */
  all(): ReadonlyMap<string, ConfigChange> {
    return this.entries;
  }

  /** Calls `listener` with each change applied from now on; returns what removes it. */
  onChange(listener: (change: ConfigChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.redis?.disconnect();
    await this.follower?.close();
  }

  private async fromKafka(record: ConsumedRecord): Promise<void> {
    if (!record.value) return;
    try {
      const { value } = await this.deps.serde.decode<{
        key: string;
        value: string | null;
        version: bigint;
        updatedAt: bigint;
      }>(record.value);
      this.apply({ ...value, updatedAt: Number(value.updatedAt), via: "kafka" });
    } catch (error) {
      // One node cannot fix another team's record: it is skipped, said once, and the node reads on.
      this.deps.log.warn(
        { err: error, "kafka.topic": record.topic, "kafka.offset": record.offset },
        "config record skipped",
      );
    }
  }

  private listen(url: string): void {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
    this.redis = redis;
    let down = false;
    redis.on("error", (error) => {
      if (!down)
        this.deps.log.warn({ err: error }, "config fast path (Redis) unavailable: changes arrive through Kafka");
      down = true;
    });
    redis.on("ready", () => {
      down = false;
    });
    redis.on("message", (_channel: string, message: string) => {
      try {
        const update = JSON.parse(message) as { key: string; value: string | null; version: string; updatedAt: number };
        this.apply({ ...update, version: BigInt(update.version), via: "redis" });
      } catch (error) {
        this.deps.log.warn({ err: error }, "config fast-path message skipped");
      }
    });
    redis.subscribe(CONFIG_CHANNEL).catch(() => {}); // retried on reconnect; errors reported above
  }

  private apply(change: ConfigChange): void {
    const held = this.entries.get(change.key);
    if (held && held.version >= change.version) return;
    this.entries.set(change.key, change);
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.deps.log.error({ err: error, "config.key": change.key }, "config listener failed");
      }
    }
  }
}
