/**
 * An in-memory Kafka behind the runtime's port, for the deterministic test driver: topics and partitions,
 * keyed records placed as Java clients place them, groups with committed offsets and range assignment,
 * transactions with read_committed visibility and aborts, pause and resume, and each topic's
 * max.message.bytes. Consumers are handed their batches one at a time, when the driver says (`deliver`), so a
 * test runs the same way every time.
 */
import { SluiceError } from "../../topics/errors.ts";
import type { Clock } from "../clock.ts";
import type {
  Admin,
  ConsumedRecord,
  GroupConsumerConfig,
  KafkaPort,
  NewTopic,
  OutgoingMessage,
  PartitionFollower,
  PartitionStart,
  Producer,
  ProducerConfig,
  TopicMessages,
  TopicPartitionOffset,
} from "../kafka/port.ts";
import { BROKER_DEFAULT_MAX_MESSAGE_BYTES, recordBytes } from "../topic-limits.ts";
import { MemoryConsumer, MemoryGroup } from "./memory-consumer.ts";
import { PartitionLog, partitionOf, type Transaction } from "./memory-log.ts";

interface MemoryTopic {
  partitions: PartitionLog[];
  configs: Record<string, string>;
}

/** A reader outside any group: where it is in each partition, and who gets the records. */
interface Follower {
  starts: PartitionStart[];
  onRecord: (record: ConsumedRecord) => void;
}

export class MemoryKafka implements KafkaPort {
  private readonly clock: Clock;
  private readonly topics = new Map<string, MemoryTopic>();
  private readonly groups = new Map<string, MemoryGroup>();
  /** Where a record without a key goes next, per topic: round robin, the same in every run. */
  private readonly roundRobin = new Map<string, number>();
  /** Followers and each one's next offset per partition, moved on when the driver delivers. */
  private readonly followers = new Set<Follower>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  consumer(config: GroupConsumerConfig): MemoryConsumer {
    let group = this.groups.get(config.groupId);
    if (!group) {
      group = new MemoryGroup(this);
      this.groups.set(config.groupId, group);
    }
    return new MemoryConsumer(this, group, config);
  }

  producer(config: ProducerConfig = {}): Producer {
    const maxMessageBytes = config.maxMessageBytes ?? 1_000_000;
    let open:
      | { transaction: Transaction; touched: Set<PartitionLog>; offsets: [MemoryGroup, TopicPartitionOffset[]][] }
      | undefined;
    const write = (batches: TopicMessages[], transaction?: Transaction, touched?: Set<PartitionLog>) => {
      for (const { topic, messages } of batches) {
        for (const message of messages) {
          const key = keyOf(message);
          const log = this.place(topic, message, key, maxMessageBytes);
          log.append(
            {
              key,
              value: message.value,
              // As a broker hands them back: every value bytes.
              headers: message.headers.map(([name, value]) => [
                name,
                typeof value === "string" ? Buffer.from(value) : value,
              ]),
              timestamp: message.timestamp ?? this.clock.now(),
            },
            transaction,
          );
          touched?.add(log);
        }
      }
    };
    const end = (status: "committed" | "aborted") => {
      if (!open) throw new SluiceError("NOT_STARTED", "no transaction is open");
      open.transaction.status = status;
      for (const log of open.touched) log.mark();
      if (status === "committed") for (const [group, offsets] of open.offsets) group.commit(offsets);
      open = undefined;
    };
    return {
      connect: async () => {},
      disconnect: async () => {},
      send: async (batches) => write(batches),
      transaction: async () => {
        if (config.transactionalId === undefined)
          throw new SluiceError("CONFIG_INVALID", "the producer has no transactional id");
        if (open) throw new SluiceError("CONFIG_INVALID", "one transaction at a time");
        const current = {
          transaction: { status: "open" as const } as Transaction,
          touched: new Set<PartitionLog>(),
          offsets: [] as [MemoryGroup, TopicPartitionOffset[]][],
        };
        open = current;
        return {
          send: async (batches) => write(batches, current.transaction, current.touched),
          sendOffsets: async (consumer, offsets) => {
            if (!(consumer instanceof MemoryConsumer))
              throw new SluiceError("CONFIG_INVALID", "offsets of another Kafka");
            current.offsets.push([consumer.group, offsets]);
          },
          commit: async () => end("committed"),
          abort: async () => end("aborted"),
        };
      },
    };
  }

  admin(): Admin {
    return {
      connect: async () => {},
      disconnect: async () => {},
      listTopics: async () => [...this.topics.keys()],
      describeTopics: async (names) =>
        names.flatMap((name) => {
          const topic = this.topics.get(name);
          return topic ? [{ name, partitions: topic.partitions.length, replicationFactor: 1 }] : [];
        }),
      createTopics: async (topics) => {
        for (const topic of topics) this.createTopic(topic);
      },
      deleteTopics: async (names) => {
        for (const name of names) this.topics.delete(name);
      },
      createPartitions: async (name, count) => {
        const { partitions } = this.topic(name);
        while (partitions.length < count) partitions.push(new PartitionLog());
      },
      topicConfigs: async (names, configNames) =>
        new Map(
          names.flatMap((name) => {
            const topic = this.topics.get(name);
            if (!topic) return [];
            const { configs } = topic;
            return [
              [name, Object.fromEntries(configNames.flatMap((c) => (c in configs ? [[c, configs[c] as string]] : [])))],
            ];
          }),
        ),
      setTopicConfig: async (name, config, value) => {
        this.topic(name).configs[config] = value;
      },
      committedOffsets: async (groupId, topics) => this.groups.get(groupId)?.committedOffsets(topics) ?? [],
      topicOffsets: async (name) =>
        this.topic(name).partitions.map((log, partition) => ({ partition, low: "0", high: String(log.end) })),
    };
  }

  /** A follower, closed once it has read what is there (which it does when it starts). */
  async readToEnd(starts: PartitionStart[], onRecord: (record: ConsumedRecord) => void): Promise<void> {
    await this.follow(starts, onRecord).close();
  }

  follow(starts: PartitionStart[], onRecord: (record: ConsumedRecord) => void): PartitionFollower {
    const follower: Follower = { starts: starts.map((s) => ({ ...s, offset: s.offset ?? "0" })), onRecord };
    this.followers.add(follower);
    this.advance(follower);
    return {
      caughtUp: Promise.resolve(),
      close: async () => {
        this.followers.delete(follower);
      },
    };
  }

  /** Hands a follower the committed records after its positions; tells whether there were any. */
  private advance(follower: Follower): boolean {
    let advanced = false;
    for (const start of follower.starts) {
      for (const found of this.log(start.topic, start.partition).read(
        Number(start.offset),
        true,
        Number.POSITIVE_INFINITY,
      )) {
        follower.onRecord(consumedRecord(start.topic, start.partition, found));
        start.offset = String(found.offset + 1);
        advanced = true;
      }
    }
    return advanced;
  }

  /** Hands each consumer its next batches, and followers their records; resolves once they are handled. */
  async deliver(): Promise<boolean> {
    let delivered = false;
    for (const follower of this.followers) if (this.advance(follower)) delivered = true;
    for (const group of this.groups.values()) if (await group.deliver()) delivered = true;
    return delivered;
  }

  createTopic(topic: NewTopic): void {
    if (this.topics.has(topic.name)) return;
    this.topics.set(topic.name, {
      partitions: Array.from({ length: topic.partitions }, () => new PartitionLog()),
      // A topic without its own limit has the broker's.
      configs: { "max.message.bytes": String(BROKER_DEFAULT_MAX_MESSAGE_BYTES), ...topic.configs },
    });
  }

  topic(name: string): MemoryTopic {
    const topic = this.topics.get(name);
    if (!topic) throw new SluiceError("TOPIC_UNKNOWN", `topic ${name} does not exist`);
    return topic;
  }

  log(topic: string, partition: number): PartitionLog {
    const log = this.topic(topic).partitions[partition];
    if (!log) throw new SluiceError("TOPIC_UNKNOWN", `topic ${topic} has no partition ${partition}`);
    return log;
  }

  /** The partition a record goes to, once it passes the producer's and the topic's size limits. */
  private place(name: string, message: OutgoingMessage, key: Buffer | null, producerMax: number): PartitionLog {
    const topic = this.topic(name);
    const bytes = recordBytes(message);
    const topicMax = Number(topic.configs["max.message.bytes"]);
    if (bytes > producerMax || bytes > topicMax) {
      throw new SluiceError("OUTPUT_TOO_LARGE", `Message size too large: ${bytes} bytes for ${name}`);
    }
    let partition = message.partition;
    if (partition === undefined && key) partition = partitionOf(key, topic.partitions.length);
    if (partition === undefined) {
      partition = (this.roundRobin.get(name) ?? 0) % topic.partitions.length;
      this.roundRobin.set(name, partition + 1);
    }
    return this.log(name, partition);
  }
}

export function consumedRecord(
  topic: string,
  partition: number,
  { offset, record }: ReturnType<PartitionLog["read"]>[number],
): ConsumedRecord {
  return { topic, partition, offset: String(offset), ...record };
}

const keyOf = (message: OutgoingMessage): Buffer | null =>
  message.key === null ? null : Buffer.isBuffer(message.key) ? message.key : Buffer.from(message.key);
