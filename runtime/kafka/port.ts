/**
 * Everything the runtime needs from Kafka, and nothing more. The librdkafka adapter (`librdkafka.ts`) implements it
 * for a real cluster; the test driver's in-memory broker (`runtime/testing`) implements it for tests that run on a
 * simulated clock. The runtime's code above this port is the same for both.
 */
import type { OutgoingHeaders, RecordHeaders } from "../headers.ts";

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** An offset, in decimal (offsets are 64-bit). */
  offset: string;
}

/** A record as read: its headers in order and byte for byte, a name may repeat and a value may be null. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders;
  /** Epoch milliseconds. */
  timestamp: number;
}

/** A record to write. Without a partition, its key places it (murmur2, as Java clients do). */
export interface OutgoingMessage {
  key: string | Buffer | null;
  value: Buffer | null;
  headers: OutgoingHeaders;
  partition?: number;
  /** Epoch milliseconds; the producer's clock when absent. */
  timestamp?: number;
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

/** Consecutive records of one partition, handed over together. */
export interface RecordBatch extends TopicPartition {
  records: ConsumedRecord[];
  /** The partition's end when the batch was read (the offset its next record will get). */
  highWatermark: string;
}

export interface BatchControl {
  /** The batch's records up to `offset` are done: an at-least-once consumer commits past them in the background. */
  resolveOffset(offset: string): void;
  /**
   * Stops fetching the partition; it is read again from the record after the last resolved one when the returned
   * function resumes it, or from `from` when given (a long-running job that ended after its batch was handed back).
   */
  pause(): (from?: string) => void;
  /** Whether the partition was revoked since the batch was read (its new owner reads it again). */
  isStale(): boolean;
}

export interface GroupConsumerConfig {
  groupId: string;
  /** Static membership: a restarted member with the same id takes its partitions back without a rebalance. */
  instanceId?: string;
  sessionTimeoutMs?: number;
  /** How long the member may go without polling before the group evicts it. */
  maxPollIntervalMs?: number;
  /** Commits resolved offsets in the background (at-least-once); otherwise only transactions commit offsets. */
  autoCommit: boolean;
  /** Reads the records of committed transactions only. */
  readCommitted: boolean;
  /** Where a group with no committed offset starts: the partition's beginning (default) or its end. */
  fromBeginning?: boolean;
  /** How long a fetch may wait for records: short for a consumer that must resume paused partitions on time. */
  fetchWaitMaxMs?: number;
  /** The most records of one partition handed over in one batch. Default: 500. */
  maxBatchRecords?: number;
  /**
   * Told of partitions assigned (before they are read) and revoked. Partitions are assigned by range, so a member
   * gets the same partition numbers of every topic it reads that has as many partitions.
   */
  onRebalance?(event: "assigned" | "revoked", partitions: TopicPartition[]): Promise<void> | void;
}

export interface GroupConsumer {
  connect(): Promise<void>;
  subscribe(topics: string[]): Promise<void>;
  /** Hands over batches, up to `partitionsAtOnce` partitions at a time, each partition's in order. */
  run(options: {
    partitionsAtOnce: number;
    eachBatch(batch: RecordBatch, control: BatchControl): Promise<void>;
  }): Promise<void>;
  /** Commits offsets now (a consumer that does not commit in the background or in transactions). */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Stops fetching, lets running batches finish, commits (at-least-once) and leaves the group. */
  disconnect(): Promise<void>;
}

export interface ProducerConfig {
  /** How long a record may wait for others to fill its batch. */
  lingerMs?: number;
  /** The largest record this producer writes. */
  maxMessageBytes?: number;
  /** The largest batch of one partition's records in one request. */
  batchBytes?: number;
  /** How batches are compressed on the wire and on disk. Default: none (the topic's compression.type applies). */
  compression?: "gzip" | "snappy" | "lz4" | "zstd";
  /** How long a record may wait for its acknowledgement before its send fails. Default: librdkafka's 5 minutes. */
  deliveryTimeoutMs?: number;
  /** Exactly-once: the producer's transactional id (a restart with the same id fences its previous life). */
  transactionalId?: string;
  transactionTimeoutMs?: number;
}

export interface Producer {
  connect(): Promise<void>;
  /** Writes records and resolves once every one is acknowledged. */
  send(batches: TopicMessages[]): Promise<void>;
  /** Exactly-once: begins a transaction (one at a time per producer). */
  transaction(): Promise<Transaction>;
  disconnect(): Promise<void>;
}

export interface Transaction {
  send(batches: TopicMessages[]): Promise<void>;
  /** Commits `offsets` (the next offsets to read) for `consumer`'s group, with the transaction. */
  sendOffsets(consumer: GroupConsumer, offsets: TopicPartitionOffset[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface TopicDescription {
  name: string;
  partitions: number;
  replicationFactor: number;
}

export interface NewTopic extends TopicDescription {
  configs: Record<string, string>;
}

export interface PartitionOffsets {
  partition: number;
  /** The first offset still kept. */
  low: string;
  /** The offset the next record will get. */
  high: string;
}

export interface Admin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  describeTopics(topics: string[]): Promise<TopicDescription[]>;
  createTopics(topics: NewTopic[]): Promise<void>;
  deleteTopics(topics: string[]): Promise<void>;
  /** Grows a topic to `count` partitions (keys then land elsewhere: an operator's decision). */
  createPartitions(topic: string, count: number): Promise<void>;
  /** The given configs of the topics that exist, by topic. */
  topicConfigs(topics: readonly string[], names: readonly string[]): Promise<Map<string, Record<string, string>>>;
  setTopicConfig(topic: string, name: string, value: string): Promise<void>;
  /** The group's committed offsets; "-1" for a partition with none. */
  committedOffsets(groupId: string, topics: string[]): Promise<TopicPartitionOffset[]>;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
}

export interface PartitionStart extends TopicPartition {
  /** The first offset to read; undefined: the partition's beginning. */
  offset?: string | undefined;
}

export interface KafkaPort {
  consumer(config: GroupConsumerConfig): GroupConsumer;
  producer(config?: ProducerConfig): Producer;
  admin(): Admin;
  /**
   * Reads the partitions from their start offsets to their current end (committed records only), outside any
   * consumer group: for state rebuilt from a topic's contents.
   */
  readToEnd(starts: PartitionStart[], onRecord: (record: ConsumedRecord) => void): Promise<void>;
  /**
   * Reads the partitions from their start offsets (committed records only), outside any consumer group, and keeps
   * reading what is appended until closed: every node's own view of a topic (config broadcast).
   */
  follow(starts: PartitionStart[], onRecord: (record: ConsumedRecord) => void): PartitionFollower;
}

export interface PartitionFollower {
  /** Resolves once each partition was read to the end it had when the follower started. */
  readonly caughtUp: Promise<void>;
  close(): Promise<void>;
}
