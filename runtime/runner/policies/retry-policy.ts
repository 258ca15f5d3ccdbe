/**
 * One retry policy per processor, chosen once (DESIGN.md, "Failures"), behind one interface: the runner never asks
 * which policy it runs.
 *   non-blocking  a failed record moves through the tiers and then the DLQ; the partition keeps flowing.
 *   blocking      only the failing partition waits and retries the record in place, with backoff.
 *   key-ordered   non-blocking for every other key; later records of the failing key wait behind it.
 */
import type { TopicPartition } from "../../kafka/port.ts";
import type { OutputBuffer } from "../../output-buffer.ts";
import type { ReadRecord } from "../read-record.ts";

export type Outcome = { kind: "done" } | { kind: "blocked"; retryAt: number };

/** A policy's bookkeeping of some keys, as it was: put back when their records are read again. */
export type KeyMark = ReadonlyMap<string, readonly number[] | undefined>;

/** What a policy remembers per key (key-ordered only), marked before records run and put back if they are read again. */
export interface KeyBookkeeping {
  mark(keys: Iterable<string>): KeyMark;
  restore(mark: KeyMark): void;
}

export interface RetryPolicy {
  /** One record of a partition at a time, whatever the key concurrency (the partition waits as one). */
  readonly sequential: boolean;
  /** The input partition and its tiers' take turns: their records share the keys' bookkeeping. */
  readonly serializesPartition: boolean;
  /** The attempt a record is on as read. */
  attempt(record: ReadRecord): number;
  /** Whether the record runs now; one that must wait behind older records of its key is parked into `out`. */
  admit(record: ReadRecord, out: OutputBuffer): boolean;
  succeeded(record: ReadRecord): void;
  /** A failed record (decoding or handler): where it goes next, or that its partition waits until a moment. */
  failed(record: ReadRecord, attempt: number, error: unknown, out: OutputBuffer): Outcome;
  /** Present when the policy keeps state per key. */
  readonly keys?: KeyBookkeeping;
  /** Partitions came (before they are read) or went: what the policy remembers is true only while it owns them. */
  assigned(partitions: TopicPartition[]): Promise<void>;
  revoked(): void;
}

export const DONE: Outcome = { kind: "done" };
