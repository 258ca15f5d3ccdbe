/**
 * A sink is a processor whose side effect is a batched external write (DESIGN.md, "Connectors and services"): an
 * Elasticsearch index, an archive, a mail server. Its definition says how to write a batch; the sink runner
 * (`runtime/sink/sink-runner.ts`) batches records by count, bytes and linger, commits a partition only up to its
 * first record not yet acknowledged, pauses partitions under backpressure and while the external system fails,
 * and sends what the external system rejects to the group's DLQ with its reason. Typed like processors:
 * `const { defineSink } = sinksFor<TopicValues>()`.
 */
import type { Logger } from "pino";
import type { Duration } from "../topics/duration.ts";
import type { Clock } from "./clock.ts";
import type { TopicPartition, TopicPartitionOffset } from "./kafka/port.ts";
import type { TopicOf } from "./processor.ts";

/** A record as a sink writes it: decoded, with its coordinates and its event id (the idempotency key). */
export interface SinkRecord<V> {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: V;
  /** The headers as text: the first value of each name. */
  headers: Record<string, string>;
  /**
   * The `event-id` header, or `<topic>-<partition>-<offset>` for a record without one (another team's producer):
   * the same on every redelivery, so a write keyed by it overwrites instead of adding.
   */
  eventId: string;
  timestamp: number;
  /** The value's size in bytes as read (what the batch and in-flight bounds count). */
  bytes: number;
  /** The registry id of the schema the value was written with (the value is read as the input's schema). */
  schemaId: number;
}

/**
 * What a write did not manage, by the index of the record in the batch; every other record is acknowledged. An
 * error the runtime classifies as permanent (a `PermanentError`: the external system rejected the record itself)
 * sends the record to the DLQ with the error's code and message; any other is transient, and the record is
 * written again after a backoff. A write that throws failed as a whole, transiently.
 */
export interface SinkWriteResult {
  failures: { index: number; error: unknown }[];
  /** A staged sink's: the partitions whose records are now durable, each up to and including `offset`. */
  durable?: TopicPartitionOffset[];
}

/**
 * A sink whose writes stage records (in an archive's open file) and make them durable later, in larger units: a
 * partition is committed only as far as the sink says its records are durable, whatever its writes returned. A
 * staged write takes every record it is given or throws (a record it cannot take is for the DLQ before it is
 * given). After a failed write a partition is read again from its first record not yet written, so a write may be
 * given records it already took: it skips them by offset.
 */
export interface SinkStaging {
  /** Makes durable what is due (an idle file), between writes, about every `every`. Default: 1s. */
  due(ctx: SinkContext): Promise<TopicPartitionOffset[]>;
  /** Makes every record these partitions staged durable now: they are revoked, or the sink stops. */
  flush(partitions: TopicPartition[], ctx: SinkContext): Promise<TopicPartitionOffset[]>;
  every?: Duration;
}

export interface SinkContext {
  log: Logger;
  clock: Clock;
  /** Aborted when the write runs out of time (it then counts as failed); pass it to fetch and the like. */
  signal: AbortSignal;
}

export interface SinkBatching {
  /** Default: 1,000 records. */
  maxRecords?: number;
  /** Of values. Default: 5 MiB. */
  maxBytes?: number;
  /** How long the first record of a batch waits for other partitions' records. Default: 5ms. */
  linger?: Duration;
}

export interface SinkDefinition<Values, T extends TopicOf<Values> = TopicOf<Values>> {
  name: string;
  /** The consumer group, and the middle of its DLQ's name. Default: the name. */
  group?: string;
  input: T;
  batching?: SinkBatching;
  /**
   * Bytes of values read and not yet acknowledged above which partitions wait (and records: twice maxRecords).
   * Default: twice batching.maxBytes.
   */
  maxInFlightBytes?: number;
  /** How long a write may take before it counts as failed. Default: 30s. */
  writeTimeout?: Duration;
  /** Prepares the external system (an index template, a bucket) before the first write; retried until it works. */
  open?(ctx: Omit<SinkContext, "signal">): Promise<void>;
  write(records: SinkRecord<Values[T]>[], ctx: SinkContext): Promise<SinkWriteResult | undefined>;
  /** For a sink that makes records durable later than it writes them (an archive). */
  staging?: SinkStaging;
  /** Releases what `open` took (timers, connections) when the sink stops. */
  close?(): Promise<void>;
}

/** A sink as the runtime runs it, whatever catalog it was typed by. */
export type Sink = Omit<SinkDefinition<Record<string, unknown>, string>, "write"> & {
  write(records: SinkRecord<unknown>[], ctx: SinkContext): Promise<SinkWriteResult | undefined>;
};

/** Sink definitions typed by a catalog's topic → value map. */
export function sinksFor<Values extends object>() {
  return {
    defineSink<T extends TopicOf<Values>>(definition: SinkDefinition<Values, T>) {
      return definition;
    },
  };
}

export function isSink(definition: object): definition is Sink {
  return "write" in definition;
}
