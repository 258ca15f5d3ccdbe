/**
 * Blocking: a retryable failure pauses only its partition, which retries the record in place with the route's
 * backoff; the other partitions keep flowing. The attempts are counted here (the record never leaves the input
 * topic), and once the backoff is spent, or the failure is permanent, the record goes to the DLQ.
 */

import type { Logger } from "pino";
import { toMs } from "../../../topics/duration.ts";
import type { Clock } from "../../clock.ts";
import { classify } from "../../failure.ts";
import type { Metrics } from "../../metrics.ts";
import type { OutputBuffer } from "../../output-buffer.ts";
import type { Route } from "../../route.ts";
import type { FailureCopies } from "../failure-copies.ts";
import { attemptAsRead, coordinates, type ReadRecord } from "../read-record.ts";
import { DONE, type Outcome, type RetryPolicy } from "./retry-policy.ts";

export class Blocking implements RetryPolicy {
  readonly sequential = true;
  readonly serializesPartition = false;
  private readonly route: Route;
  private readonly copies: FailureCopies;
  private readonly deps: { clock: Clock; metrics: Metrics; log: Logger };
  /** Failed attempts per `topic/partition/offset`. */
  private readonly attempts = new Map<string, number>();

  constructor(route: Route, copies: FailureCopies, deps: { clock: Clock; metrics: Metrics; log: Logger }) {
    this.route = route;
    this.copies = copies;
    this.deps = deps;
  }

  attempt(record: ReadRecord): number {
    if (record.tierIndex >= 0) return attemptAsRead(record);
    return (this.attempts.get(idOf(record)) ?? 0) + 1;
  }

  admit(): boolean {
    return true;
  }

  succeeded(record: ReadRecord): void {
    this.attempts.delete(idOf(record));
  }

  failed(record: ReadRecord, attempt: number, error: unknown, out: OutputBuffer): Outcome {
    const wait = this.route.blockingBackoff[attempt - 1];
    if (!classify(error).permanent && wait !== undefined) {
      this.attempts.set(idOf(record), attempt);
      this.deps.metrics.retries.inc({ processor: this.route.name, topic: `${record.consumed.topic}.blocking` });
      this.deps.log.warn({ err: error, attempt, ...coordinates(record) }, "blocked: retrying");
      return { kind: "blocked", retryAt: this.deps.clock.now() + toMs(wait) };
    }
    this.attempts.delete(idOf(record));
    this.copies.failed(record, attempt, error, [], out);
    return DONE;
  }

  async assigned(): Promise<void> {}

  revoked(): void {
    this.attempts.clear();
  }
}

const idOf = ({ consumed }: ReadRecord) => `${consumed.topic}/${consumed.partition}/${consumed.offset}`;
