/** The port's group consumer on the client's KafkaJS-style API: batches handed over in the port's terms. */
import kafkaClient, { type KafkaJS } from "@confluentinc/kafka-javascript";
import type { RecordHeader, RecordHeaders } from "../../headers.ts";
import type {
  BatchControl,
  ConsumedRecord,
  GroupConsumer,
  GroupConsumerConfig,
  RecordBatch,
  TopicPartitionOffset,
} from "../port.ts";

const REVOKE_PARTITIONS = kafkaClient.CODES.ERRORS.ERR__REVOKE_PARTITIONS;

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

/** Where the patched client keeps a consumed record's headers in order (ops/toolchain/patches/README.md). */
const RECORD_HEADERS = Symbol.for("kafka-javascript.recordHeaders");
export type HeaderList = { [name: string]: Buffer | null }[];

/** The client's header list (one `{ name: value }` per header, in order) in the port's terms. */
export function recordHeaders(raw: HeaderList | undefined): RecordHeaders {
  const list: RecordHeader[] = [];
  for (const header of raw ?? []) for (const name in header) list.push([name, header[name] ?? null]);
  return list;
}

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
    this.list ??= recordHeaders(this.raw);
    return this.list;
  }
}

export class LibrdkafkaConsumer implements GroupConsumer {
  readonly client: KafkaJS.Consumer;

  constructor(kafka: KafkaJS.Kafka, config: GroupConsumerConfig) {
    const { onRebalance } = config;
    this.client = kafka.consumer({
      ...BOUNDED_PREFETCH,
      ...(config.fetchWaitMaxMs === undefined ? {} : { "fetch.wait.max.ms": config.fetchWaitMaxMs }),
      ...(config.maxBatchRecords === undefined ? {} : { "js.consumer.max.batch.size": config.maxBatchRecords }),
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
          {
            resolveOffset,
            pause: () => {
              const resume = pause();
              return (from?: string) => {
                if (from !== undefined)
                  this.client.seek({ topic: batch.topic, partition: batch.partition, offset: from });
                resume();
              };
            },
            isStale,
          },
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
