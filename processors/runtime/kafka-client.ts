/**
 * The one place that builds Kafka clients. Everything else imports the KafkaJS-style types from here, so the
 * client library can be swapped, and a deterministic test driver can stand in, behind this narrow seam.
 */
import kafkaClient, { KafkaJS } from "@confluentinc/kafka-javascript";
import kafkajs from "kafkajs";
import { endpointsFromEnv } from "./endpoints.ts";
import { SluiceError } from "./errors.ts";
import type { RecordHeaders } from "./headers.ts";

export type Kafka = KafkaJS.Kafka;
export type Admin = KafkaJS.Admin;
export type Producer = KafkaJS.Producer;
export type Consumer = KafkaJS.Consumer;
export type IHeaders = KafkaJS.IHeaders;
export type ProducerConfig = KafkaJS.ProducerConstructorConfig;
export type KafkaMessage = KafkaJS.KafkaMessage;
export type ClientMessage = KafkaJS.Message;

export function createKafka(clientId: string, brokers = endpointsFromEnv().kafkaBrokers): Kafka {
  return new KafkaJS.Kafka({
    kafkaJS: { clientId, brokers, logLevel: KafkaJS.logLevel.ERROR },
  });
}

/**
 * A producer that places keys where Java clients do (murmur2, not librdkafka's default CRC32), so a key lands
 * on the same partition whichever language produced it. Idempotent by default: retries never duplicate.
 */
export function createProducer(kafka: Kafka, config: ProducerConfig = {}): Producer {
  return kafka.producer({
    partitioner: "murmur2_random",
    ...config,
    kafkaJS: { idempotent: true, ...config.kafkaJS },
  });
}

/** A record to write: its headers as Kafka carries them (in order, names may repeat, values may be null). */
export interface OutgoingMessage {
  key: string | Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders;
  timestamp?: string;
}

/** Where the client keeps a consumed record's headers in order (ops/toolchain/patches/README.md). */
const RECORD_HEADERS = Symbol.for("kafka-javascript.recordHeaders");

/** A consumed record's headers, in order, byte for byte. */
export function recordHeaders(message: KafkaMessage): RecordHeaders {
  const list = (message.headers as Record<symbol, { [name: string]: Buffer | null }[] | undefined> | undefined)?.[
    RECORD_HEADERS
  ];
  return (list ?? []).flatMap((header) => Object.entries(header));
}

/** Headers as text: the first value of each name, UTF-8 (a null value counts as absent). */
export function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== null) text[name] = first.toString();
  }
  return text;
}

/** A record in the client's form. The client's type says headers are an object; it also takes their list. */
export function clientMessage(message: OutgoingMessage): ClientMessage {
  return {
    key: message.key,
    value: message.value,
    headers: message.headers.map(([name, value]) => ({ [name]: value })) as unknown as IHeaders,
    ...(message.timestamp === undefined ? {} : { timestamp: message.timestamp }),
  };
}

// kafkajs 2.2.4 hands setTimeout a negative delay when it is not throttled; Node clamps it to 1 ms and prints a
// TimeoutNegativeWarning each time. Keep every other warning.
const printWarnings = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name !== "TimeoutNegativeWarning") for (const print of printWarnings) print(warning);
});

/**
 * The given configs of the topics that exist, by topic. Read with kafkajs, because the client's admin API has no
 * DescribeConfigs.
 */
export async function topicConfigs(
  topics: readonly string[],
  configNames: readonly string[],
  brokers = endpointsFromEnv().kafkaBrokers,
): Promise<Map<string, Record<string, string>>> {
  const admin = new kafkajs.Kafka({ clientId: "sluice-configs", brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return new Map();
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((name) => ({
        type: kafkajs.ConfigResourceTypes.TOPIC,
        name,
        configNames: [...configNames],
      })),
    });
    return new Map(
      resources.map((r) => [
        r.resourceName,
        Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])),
      ]),
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * How much a runtime consumer reads ahead, bounded. librdkafka's defaults prefetch 100,000 records per partition
 * (up to 64 MB), and the KafkaJS layer sizes its JS-side cache to 1.5 s of the consumption rate it measured, which
 * after a burst over a backlog is tens of thousands of records on the heap at once. A processor needs only its
 * next batches at hand.
 */
export const BOUNDED_PREFETCH = {
  "js.consumer.max.batch.size": 500,
  "js.consumer.max.cache.size.per.worker.ms": 200,
  "queued.min.messages": 2_000,
  "queued.max.messages.kbytes": 8_192,
} as const;

/** librdkafka's RD_KAFKA_OFFSET_BEGINNING. */
const OFFSET_BEGINNING = -2;

export interface PartitionStart {
  topic: string;
  partition: number;
  /** The first offset to read; undefined: the partition's beginning. */
  offset?: number | undefined;
}

/**
 * Reads the given partitions from their start offsets to their current end (committed records only), outside
 * any consumer group, and calls `onRecord` with each record's key. For bookkeeping that must be rebuilt from a
 * topic's contents; the KafkaJS API has no way to read a partition without joining a group.
 */
export async function readKeysToEnd(
  starts: PartitionStart[],
  onRecord: (topic: string, partition: number, key: string) => void,
  timeoutMs = 30_000,
  brokers = endpointsFromEnv().kafkaBrokers,
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
      starts.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.offset ?? OFFSET_BEGINNING })),
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
      for (const m of messages) onRecord(m.topic, m.partition, m.key?.toString() ?? "");
    }
  } finally {
    await new Promise((resolve) => consumer.disconnect(resolve));
  }
}
