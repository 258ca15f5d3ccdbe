/**
 * A processor is declared, not wired: its input, outputs, delivery mode, retry policy, retry tiers and handler, in
 * one definition, with defaults so that it says only what differs (runtime/route.ts fills them in). Its group's
 * retry and DLQ topics are derived from it. Definitions are typed by a catalog's topic → value map, bound once:
 * `const { defineProcessor } = processorsFor<TopicValues>()`.
 */
import type { Logger } from "pino";
import type { Duration } from "../topics/duration.ts";
import type { Clock } from "./clock.ts";
import type { OnceScope } from "./ledger/ledger.ts";

export type DeliveryMode = "exactly-once" | "at-least-once";
export type RetryPolicy = "non-blocking" | "blocking" | "key-ordered";

/** The topic names of a catalog's topic → value map. */
export type TopicOf<Values> = keyof Values & string;

export interface InputRecord<V> {
  /** Where this copy was read: the input topic, or one of the group's retry tiers. */
  topic: string;
  /** The input topic the record belongs to. */
  sourceTopic: string;
  partition: number;
  offset: string;
  key: string;
  value: V;
  /** The headers as text: the first value of each name (`event-id`, `trace-id`, and whatever else came). */
  headers: Record<string, string>;
  timestamp: number;
  /** 1 on the input topic, 2 on the first retry tier, and so on. */
  attempt: number;
}

export type When = { delay: Duration | number } | { at: number };

/** The broadcast configuration (`sluice config set`) as this node holds it at the moment it is read. */
export interface ConfigView {
  /** The key's current value; undefined when it is not set (or was removed). */
  get(key: string): string | undefined;
}

export interface Context<Values> {
  /** Produces `value` to `topic` with the record's transaction (exactly-once) or before its commit (at-least-once). */
  send<T extends TopicOf<Values>>(
    topic: T,
    key: string,
    value: Values[T],
    headers?: Record<string, string>,
  ): Promise<void>;
  /** Delivers `value` to `topic` later, through the delay tiers. */
  schedule<T extends TopicOf<Values>>(topic: T, key: string, value: Values[T], when: When): Promise<void>;
  /** Runs a side effect once per idempotency key, whatever the redeliveries; returns its (remembered) result. */
  once<R>(key: string, fn: (scope: OnceScope) => Promise<R>): Promise<R | undefined>;
  /** The broadcast configuration: a change reaches every node within milliseconds and applies from the next read. */
  config: ConfigView;
  log: Logger;
  clock: Clock;
  /** Aborted when the handler runs out of time (its record then goes to a retry); pass it to fetch and the like. */
  signal: AbortSignal;
}

export interface ProcessorDefinition<Values, T extends TopicOf<Values> = TopicOf<Values>> {
  name: string;
  /** The consumer group, and the middle of its retry and DLQ topic names. Default: the name. */
  group?: string;
  input: T;
  /** The topics the handler writes (ctx.send, ctx.schedule). Default: none. */
  outputs?: readonly TopicOf<Values>[];
  /** Default: at-least-once. */
  delivery?: DeliveryMode;
  /** Default: non-blocking. */
  retry?: RetryPolicy;
  /** Delays of the retry tiers in order; after the last one a record goes to the DLQ. Default: 5s, 1m, 10m. */
  retryTiers?: readonly Duration[];
  /** Backoff of the blocking policy, per attempt. Default: the retry tiers. */
  blockingBackoff?: readonly Duration[];
  /** Records of different keys in one partition processed at once, each key in order. Default: 16. */
  keyConcurrency?: number;
  /** ctx.once backed by PostgreSQL (in the side effect's transaction) or Redis. */
  ledger?: "postgres" | "redis";
  /**
   * How long the handler may run for one record before the record counts as a retryable failure
   * (HANDLER_TIMEOUT). Default: a quarter of max.poll.interval.ms, at most 1 minute; never more than a quarter,
   * except for a long-running processor (default 1 hour, any length).
   */
  handlerTimeout?: Duration;
  /**
   * Long-running jobs (a transcode of minutes): each record's handler runs outside the poll loop, one record of a
   * partition at a time, with the partition paused meanwhile, while the member keeps polling its other partitions,
   * so it is never evicted however long the job takes. The partition commits and resumes when the job ends. On
   * revocation (or stop) mid-job, `ctx.signal` aborts and nothing of the job is written: the partition's next owner
   * runs it again. Non-blocking retry only. Default: false.
   */
  longRunning?: boolean;
  /**
   * A long-running processor's jobs one member runs at once (a CPU-bound transcode: one or two); the partitions
   * past it wait, paused, and are read again whenever a place frees. Default: no limit (one a partition).
   */
  jobsAtOnce?: number;
  handler(record: InputRecord<Values[T]>, ctx: Context<Values>): Promise<void>;
}

/** The context as the runtime gives it, whatever catalog a handler was typed by. */
export interface RuntimeContext {
  send(topic: string, key: string, value: unknown, headers?: Record<string, string>): Promise<void>;
  schedule(topic: string, key: string, value: unknown, when: When): Promise<void>;
  once<R>(key: string, fn: (scope: OnceScope) => Promise<R>): Promise<R | undefined>;
  config: ConfigView;
  log: Logger;
  clock: Clock;
  signal: AbortSignal;
}

/** A definition as the runtime runs it, whatever catalog it was typed by. */
export type Processor = Omit<ProcessorDefinition<Record<string, unknown>, string>, "handler"> & {
  handler(record: InputRecord<unknown>, ctx: RuntimeContext): Promise<void>;
};

/** Processor definitions typed by a catalog's topic → value map: every topic name and value is checked. */
export function processorsFor<Values extends object>() {
  return {
    defineProcessor<T extends TopicOf<Values>>(definition: ProcessorDefinition<Values, T>) {
      return definition;
    },
  };
}
