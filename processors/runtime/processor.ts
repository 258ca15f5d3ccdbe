/**
 * A processor is declared, not wired: its group, input topic, outputs, delivery mode, retry policy and handler.
 * Retry tiers come from the topic catalog (the group's entry under its input topic), the single source of truth
 * for which retry and DLQ topics exist.
 */
import type { Logger } from "pino";
import type { TopicName, TopicValues } from "../../schemas/types.generated.ts";
import type { Duration } from "../../topics/duration.ts";
import type { Clock } from "./clock.ts";
import type { OnceScope } from "./ledger/ledger.ts";

export type DeliveryMode = "exactly-once" | "at-least-once";
export type RetryPolicy = "non-blocking" | "blocking" | "key-ordered";

export interface InputRecord<V> {
  /** Where this copy was read: the input topic, or one of the group's retry tiers. */
  topic: string;
  /** The input topic the record belongs to. */
  sourceTopic: string;
  partition: number;
  offset: string;
  key: string;
  value: V;
  headers: Record<string, string>;
  timestamp: number;
  /** 1 on the input topic, 2 on the first retry tier, and so on. */
  attempt: number;
}

export type When = { delay: Duration | number } | { at: number };

export interface Context {
  /** Produces `value` to `topic` with the record's transaction (exactly-once) or before its commit (at-least-once). */
  send<T extends TopicName>(
    topic: T,
    key: string,
    value: TopicValues[T],
    headers?: Record<string, string>,
  ): Promise<void>;
  /** Delivers `value` to `topic` later, through the delay tiers. */
  schedule<T extends TopicName>(topic: T, key: string, value: TopicValues[T], when: When): Promise<void>;
  /** Runs a side effect once per idempotency key, whatever the redeliveries; returns its (remembered) result. */
  once<R>(key: string, fn: (scope: OnceScope) => Promise<R>): Promise<R | undefined>;
  log: Logger;
  clock: Clock;
  /** Aborted when the handler runs out of time (its record then goes to a retry); pass it to fetch and the like. */
  signal: AbortSignal;
}

export interface ProcessorDefinition<T extends TopicName = TopicName> {
  name: string;
  group: string;
  input: T;
  outputs: readonly TopicName[];
  delivery: DeliveryMode;
  retry: RetryPolicy;
  /** Records of different keys in one partition processed at once; 1 keeps strict partition order. */
  keyConcurrency?: number;
  /** Backoff of the blocking policy, per attempt; defaults to the group's retry tiers. */
  blockingBackoff?: readonly Duration[];
  ledger?: "postgres" | "redis";
  /**
   * How long the handler may run for one record before the record counts as a retryable failure
   * (HANDLER_TIMEOUT). Default: a quarter of max.poll.interval.ms, at most 1 minute; never more than a quarter.
   */
  handlerTimeout?: Duration;
  handler(record: InputRecord<TopicValues[T]>, ctx: Context): Promise<void>;
}

export function defineProcessor<T extends TopicName>(definition: ProcessorDefinition<T>): ProcessorDefinition<T> {
  return definition;
}
