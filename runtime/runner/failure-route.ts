/**
 * Where a failed record goes next: the group's next retry tier, or its DLQ once the tiers are spent or the
 * failure is permanent, with the routing headers that carry its history (DESIGN.md, "Topic conventions"). Pure,
 * so it is tested without a broker.
 */

import { type Duration, toMs } from "../../topics/duration.ts";
import { dlqTopicName, retryTopicName } from "../../topics/topic.ts";
import { classify } from "../failure.ts";
import { HEADER } from "../headers.ts";

export interface FailedRecord {
  /** The business topic the record belongs to (the one it was first read from). */
  sourceTopic: string;
  /** Where this copy was read: the business topic or one of its retry tiers. */
  topic: string;
  partition: number;
  offset: string;
  /** The attempt that failed: 1 on the business topic, the `attempt` header on a tier. */
  attempt: number;
  /** The record's headers as text; its routing headers are read only when it came from a tier. */
  headers: Readonly<Record<string, string>>;
}

export interface FailureRoute {
  kind: "retry" | "dlq";
  topic: string;
  /** Sluice's routing headers for the copy, to set in place of any the record carries. */
  headers: Record<string, string>;
  /** For a retry: when the record is due again. */
  dueAt?: number;
}

/** The attempt a record read from a tier is on (its `attempt` header); 1 if the header is missing or invalid. */
export function attemptOf(headers: Readonly<Record<string, string>>): number {
  const attempt = Number(headers[HEADER.attempt]);
  return Number.isInteger(attempt) && attempt > 0 ? attempt : 1;
}

export function routeFailure(
  record: FailedRecord,
  error: unknown,
  group: string,
  tiers: readonly Duration[],
  now: number,
): FailureRoute {
  const { attempt } = record;
  const { permanent, errorClass, errorMessage } = classify(error);
  // A record read from its business topic failed for the first time, whatever routing headers its producer
  // wrote; one read from a tier carries the history that Sluice wrote there.
  const first = record.topic === record.sourceTopic;
  const history = (name: string, fallback: string) => (first ? fallback : (record.headers[name] ?? fallback));
  const headers = {
    [HEADER.originalTopic]: history(HEADER.originalTopic, record.sourceTopic),
    [HEADER.originalPartition]: history(HEADER.originalPartition, String(record.partition)),
    [HEADER.originalOffset]: history(HEADER.originalOffset, record.offset),
    [HEADER.firstFailedAt]: history(HEADER.firstFailedAt, String(now)),
    [HEADER.errorClass]: errorClass,
    [HEADER.errorMessage]: errorMessage,
  };
  // The tier for attempt n+1 is tiers[n-1]: attempt 1 failing goes to the first tier.
  const tier = tiers[attempt - 1];
  if (permanent || tier === undefined) {
    return {
      kind: "dlq",
      topic: dlqTopicName(record.sourceTopic, group),
      // Due-at: when the attempt that failed last was due (on the input topic, when it failed).
      headers: { ...headers, [HEADER.attempt]: String(attempt), [HEADER.dueAt]: history(HEADER.dueAt, String(now)) },
    };
  }
  const dueAt = now + toMs(tier);
  return {
    kind: "retry",
    topic: retryTopicName(record.sourceTopic, group, tier),
    dueAt,
    headers: { ...headers, [HEADER.attempt]: String(attempt + 1), [HEADER.dueAt]: String(dueAt) },
  };
}
