/**
 * The Kafka port on a real cluster: @confluentinc/kafka-javascript (librdkafka) through its KafkaJS-style API, its
 * native consumer to read partitions outside a group, and kafkajs for the topic configs librdkafka's admin API
 * cannot read or set. The only module that imports a Kafka client.
 */
import kafkaClient, { KafkaJS } from "@confluentinc/kafka-javascript";
import kafkajs from "kafkajs";
import { SluiceError } from "../../topics/errors.ts";
import type { RecordHeaders } from "../headers.ts";
import type {
  Admin,
  BatchControl,
  ConsumedRecord,
  GroupConsumer,
  GroupConsumerConfig,
  KafkaPort,
  NewTopic,
  OutgoingMessage,
  PartitionOffsets,
  PartitionStart,
  Producer,
  ProducerConfig,
  RecordBatch,
  TopicDescription,
  TopicMessages,
  TopicPartitionOffset,
  Transaction,
} from "./port.ts";

const REVOKE_PARTITIONS = kafkaClient.CODES.ERRORS.ERR__REVOKE_PARTITIONS;
/** librdkafka's RD_KAFKA_OFFSET_BEGINNING. */
const OFFSET_BEGINNING = -2;

/**
 * How much a consumer reads ahead, bounded. librdkafka's defaults prefetch 100,000 records per partition (up to
 * 64 MB), and the KafkaJS layer sizes its JS-side cache to 1.5 s of the consumption rate it measured, which after
 * a burst over a backlog is tens of thousands of records on the heap at once. A processor needs only its next
 * batches at hand.
 */
const BOUNDED_PREFETCH = {
  "js.consumer.max.batch.size": 500,
  "js.consumer.max.cache.size.per.worker.ms": 200,
  "queued.min.messages": 2_000,
  "queued.max.messages.kbytes": 8_192,
} as const;

// kafkajs 2.2.4 hands setTimeout a negative delay when it is not throttled; Node clamps it to 1 ms and prints a
// TimeoutNegativeWarning each time. Keep every other warning.
const printWarnings = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name !== "TimeoutNegativeWarning") for (const print of printWarnings) print(warning);
});

export interface LibrdkafkaOptions {
  brokers: string[];
  clientId: string;
}

export function librdkafka(options: LibrdkafkaOptions): KafkaPort {
  const kafka = new KafkaJS.Kafka({
    kafkaJS: { clientId: options.clientId, brokers: options.brokers, logLevel: KafkaJS.logLevel.ERROR },
  });
  return {
    consumer: (config) => new LibrdkafkaConsumer(kafka, config),
    producer: (config) => new LibrdkafkaProducer(kafka, config),
    admin: () => new LibrdkafkaAdmin(kafka, options),
    readToEnd: (starts, onRecord) => readToEnd(options.brokers, starts, onRecord),
  };
}

/** Where the patched client keeps a consumed record's headers in order (ops/toolchain/patches/README.md). */
const RECORD_HEADERS = Symbol.for("kafka-javascript.recordHeaders");
type HeaderList = { [name: string]: Buffer | null }[];

/** A consumed record; its header list is built only when something reads it. */
class ClientRecord implements ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  private readonly raw: HeaderList | undefined;
  private list: RecordHeaders | undefined;

  constructor(topic: string, partition: number, message: KafkaJS.KafkaMessage) {
    this.topic = topic;
    this.partition = partition;
    this.offset = message.offset;
    this.key = message.key;
    this.value = message.value;
    this.timestamp = Number(message.timestamp);
    this.raw = (message.headers as Record<symbol, HeaderList | undefined> | undefined)?.[RECORD_HEADERS];
  }

  get headers(): RecordHeaders {
    this.list ??= (this.raw ?? []).flatMap((header) => Object.entries(header));
    return this.list;
  }
}

class LibrdkafkaConsumer implements GroupConsumer {
  readonly client: KafkaJS.Consumer;

  constructor(kafka: KafkaJS.Kafka, config: GroupConsumerConfig) {
    const { onRebalance } = config;
    this.client = kafka.consumer({
      ...BOUNDED_PREFETCH,
      ...(config.fetchWaitMaxMs === undefined ? {} : { "fetch.wait.max.ms": config.fetchWaitMaxMs }),
      ...(config.instanceId === undefined ? {} : { "group.instance.id": config.instanceId }),
      ...(config.sessionTimeoutMs === undefined ? {} : { "session.timeout.ms": config.sessionTimeoutMs }),
      // The KafkaJS layer doubles this before it reaches librdkafka, so a batch started just before the interval
      // runs out can still finish.
      ...(config.maxPollIntervalMs === undefined ? {} : { "max.poll.interval.ms": config.maxPollIntervalMs }),
      // The layer's assignment handling runs once this returns: the assignment is kept as it is.
      ...(onRebalance
        ? {
            rebalance_cb: async (error: { code: number }, assignment: { topic: string; partition: number }[]) => {
              await onRebalance(error.code === REVOKE_PARTITIONS ? "revoked" : "assigned", assignment);
            },
          }
        : {}),
      kafkaJS: {
        groupId: config.groupId,
        fromBeginning: config.fromBeginning ?? true,
        autoCommit: config.autoCommit,
        autoCommitInterval: 1_000,
        readUncommitted: !config.readCommitted,
        partitionAssigners: ["range" as KafkaJS.PartitionAssigners],
      },
    });
  }

  connect(): Promise<void> {
    return this.client.connect();
  }

  subscribe(topics: string[]): Promise<void> {
    return this.client.subscribe({ topics });
  }

  run(options: {
    partitionsAtOnce: number;
    eachBatch(batch: RecordBatch, control: BatchControl): Promise<void>;
  }): Promise<void> {
    return this.client.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsAtOnce,
      eachBatch: ({ batch, resolveOffset, pause, isStale }) =>
        options.eachBatch(
          {
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            records: batch.messages.map((message) => new ClientRecord(batch.topic, batch.partition, message)),
          },
          { resolveOffset, pause, isStale },
        ),
    });
  }

  commit(offsets: TopicPartitionOffset[]): Promise<void> {
    return this.client.commitOffsets(offsets);
  }

  disconnect(): Promise<void> {
    return this.client.disconnect();
  }
}

class LibrdkafkaProducer implements Producer {
  private readonly client: KafkaJS.Producer;

  constructor(kafka: KafkaJS.Kafka, config: ProducerConfig = {}) {
    const transactional = config.transactionalId !== undefined;
    this.client = kafka.producer({
      // Keys land where Java clients put them (murmur2, not librdkafka's CRC32), whichever language produced them.
      partitioner: "murmur2_random",
      ...(config.lingerMs === undefined ? {} : { "linger.ms": config.lingerMs }),
      ...(config.maxMessageBytes === undefined ? {} : { "message.max.bytes": config.maxMessageBytes }),
      ...(config.batchBytes === undefined ? {} : { "batch.size": config.batchBytes }),
      ...(config.transactionTimeoutMs === undefined
        ? {}
        : { "transaction.timeout.ms": config.transactionTimeoutMs, "socket.timeout.ms": config.transactionTimeoutMs }),
      // Idempotent always: a retried request never writes a record twice.
      kafkaJS: transactional
        ? { transactionalId: config.transactionalId, idempotent: true, maxInFlightRequests: 1 }
        : { idempotent: true },
    });
  }

  connect(): Promise<void> {
    return this.client.connect();
  }

  async send(batches: TopicMessages[]): Promise<void> {
    if (batches.length > 0) await this.client.sendBatch({ topicMessages: batches.map(clientBatch) });
  }

  async transaction(): Promise<Transaction> {
    const transaction = await this.client.transaction();
    return {
      send: async (batches) => {
        for (const batch of batches) await transaction.send(clientBatch(batch));
      },
      sendOffsets: async (consumer, offsets) => {
        if (!(consumer instanceof LibrdkafkaConsumer)) {
          throw new SluiceError("CONFIG_INVALID", "a transaction commits offsets of a consumer of the same Kafka only");
        }
        const topics = new Map<string, { partition: number; offset: string }[]>();
        for (const { topic, partition, offset } of offsets) {
          const partitions = topics.get(topic) ?? [];
          partitions.push({ partition, offset });
          topics.set(topic, partitions);
        }
        await transaction.sendOffsets({
          consumer: consumer.client,
          topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
        });
      },
      commit: async () => {
        await transaction.commit();
      },
      abort: async () => {
        await transaction.abort();
      },
    };
  }

  disconnect(): Promise<void> {
    return this.client.disconnect();
  }
}

function clientBatch({ topic, messages }: TopicMessages): KafkaJS.TopicMessages {
  return { topic, messages: messages.map(clientMessage) };
}

/** A record in the client's form. Its type says headers are an object; the patched client also takes the list. */
function clientMessage(message: OutgoingMessage): KafkaJS.Message {
  return {
    key: message.key,
    value: message.value,
    headers: message.headers.map(([name, value]) => ({ [name]: value })) as unknown as KafkaJS.IHeaders,
    ...(message.partition === undefined ? {} : { partition: message.partition }),
    ...(message.timestamp === undefined ? {} : { timestamp: String(message.timestamp) }),
  };
}

class LibrdkafkaAdmin implements Admin {
  private readonly client: KafkaJS.Admin;
  /** For DescribeConfigs and AlterConfigs, which librdkafka's admin API lacks. */
  private readonly configs: kafkajs.Admin;

  constructor(kafka: KafkaJS.Kafka, options: LibrdkafkaOptions) {
    this.client = kafka.admin();
    this.configs = new kafkajs.Kafka({
      clientId: `${options.clientId}-configs`,
      brokers: options.brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
  }

  async connect(): Promise<void> {
    await Promise.all([this.client.connect(), this.configs.connect()]);
  }

  async disconnect(): Promise<void> {
    await Promise.allSettled([this.client.disconnect(), this.configs.disconnect()]);
  }

  listTopics(): Promise<string[]> {
    return this.client.listTopics();
  }

  async describeTopics(topics: string[]): Promise<TopicDescription[]> {
    if (topics.length === 0) return [];
    const metadata = await this.client.fetchTopicMetadata({ topics });
    return metadata.map((t) => ({
      name: t.name,
      partitions: t.partitions.length,
      replicationFactor: t.partitions[0]?.replicas.length ?? 0,
    }));
  }

  async createTopics(topics: NewTopic[]): Promise<void> {
    if (topics.length === 0) return;
    await this.client.createTopics({
      topics: topics.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  async deleteTopics(topics: string[]): Promise<void> {
    if (topics.length > 0) await this.client.deleteTopics({ topics });
  }

  async topicConfigs(
    topics: readonly string[],
    names: readonly string[],
  ): Promise<Map<string, Record<string, string>>> {
    const existing = new Set(await this.client.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return new Map();
    const { resources } = await this.configs.describeConfigs({
      includeSynonyms: false,
      resources: present.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: [...names] })),
    });
    return new Map(
      resources.map((r) => [
        r.resourceName,
        Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])),
      ]),
    );
  }

  async setTopicConfig(topic: string, name: string, value: string): Promise<void> {
    // AlterConfigs replaces a topic's whole config: keep the others it has set.
    const [current] = (
      await this.configs.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }],
      })
    ).resources;
    const kept = (current?.configEntries ?? []).filter((e) => !e.isDefault && !e.readOnly && e.configName !== name);
    await this.configs.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [...kept.map((e) => ({ name: e.configName, value: e.configValue })), { name, value }],
        },
      ],
    });
  }

  async committedOffsets(groupId: string, topics: string[]): Promise<TopicPartitionOffset[]> {
    const offsets = await this.client.fetchOffsets({ groupId, topics });
    return offsets.flatMap(({ topic, partitions }) =>
      partitions.map(({ partition, offset }) => ({ topic, partition, offset })),
    );
  }

  async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const offsets = await this.client.fetchTopicOffsets(topic);
    return offsets.map(({ partition, low, high }) => ({ partition, low, high }));
  }
}

async function readToEnd(
  brokers: string[],
  starts: PartitionStart[],
  onRecord: (record: ConsumedRecord) => void,
  timeoutMs = 30_000,
): Promise<void> {
  if (starts.length === 0) return;
  const consumer = new kafkaClient.KafkaConsumer(
    {
      "bootstrap.servers": brokers.join(","),
      "group.id": "sluice-reader", // required by librdkafka; never joined: partitions are assigned directly
      "enable.auto.commit": false,
      "enable.partition.eof": true,
      "isolation.level": "read_committed",
    },
    {},
  );
  await new Promise<void>((resolve, reject) => consumer.connect({}, (error) => (error ? reject(error) : resolve())));
  try {
    const atEnd = new Set<string>();
    consumer.on("partition.eof", (eof) => atEnd.add(`${eof.topic}/${eof.partition}`));
    consumer.setDefaultConsumeTimeout(100);
    consumer.assign(
      starts.map((s) => ({
        topic: s.topic,
        partition: s.partition,
        offset: s.offset === undefined ? OFFSET_BEGINNING : Number(s.offset),
      })),
    );
    const deadline = Date.now() + timeoutMs;
    while (atEnd.size < starts.length) {
      if (Date.now() > deadline) {
        throw new SluiceError(
          "READ_TIMEOUT",
          `could not read ${starts.length} partitions to their end in ${timeoutMs} ms`,
        );
      }
      const messages = await new Promise<kafkaClient.Message[]>((resolve, reject) =>
        consumer.consume(500, (error, batch) => (error ? reject(error) : resolve(batch))),
      );
      for (const m of messages) {
        onRecord({
          topic: m.topic,
          partition: m.partition,
          offset: String(m.offset),
          key: m.key === undefined || m.key === null ? null : Buffer.from(m.key),
          value: m.value ?? null,
          headers: (m.headers ?? []).flatMap((h) => Object.entries(h) as [string, Buffer | null][]),
          timestamp: m.timestamp ?? 0,
        });
      }
    }
  } finally {
    await new Promise((resolve) => consumer.disconnect(resolve));
  }
}
