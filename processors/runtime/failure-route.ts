/**
 * Where a failed record goes next: the group's next retry tier, or its DLQ once the tiers are spent or the
 * failure is permanent. The headers carry the history (DESIGN.md, "Topic conventions"); pure, so it is tested
 * without a broker.
 */

import { type Duration, toMs } from "../../topics/duration.ts";
import { dlqTopicName, retryTopicName } from "../../topics/topic.ts";
import { errorClass, errorMessage, isPermanent } from "./failure.ts";
import { HEADER } from "./headers.ts";

export interface FailedRecord {
  /** The business topic the record belongs to (the one it was first read from). */
  sourceTopic: string;
  /** Where this copy was read: the business topic or one of its retry tiers. */
  topic: string;
  partition: number;
  offset: string;
  headers: Record<string, string>;
}

export interface FailureRoute {
  kind: "retry" | "dlq";
  topic: string;
  headers: Record<string, string>;
  /** For a retry: when the record is due again. */
  dueAt?: number;
}

/** The attempt a record is on: 1 when read from the business topic, `attempt` header on a retry tier. */
export function attemptOf(headers: Record<string, string>): number {
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
  const attempt = attemptOf(record.headers);
  const firstFailure = record.topic === record.sourceTopic;
  const history = {
    ...record.headers,
    [HEADER.originalTopic]: firstFailure ? record.topic : (record.headers[HEADER.originalTopic] ?? record.sourceTopic),
    [HEADER.originalPartition]: firstFailure
      ? String(record.partition)
      : (record.headers[HEADER.originalPartition] ?? String(record.partition)),
    [HEADER.originalOffset]: firstFailure ? record.offset : (record.headers[HEADER.originalOffset] ?? record.offset),
    [HEADER.firstFailedAt]: record.headers[HEADER.firstFailedAt] ?? String(now),
    [HEADER.errorClass]: errorClass(error),
    [HEADER.errorMessage]: errorMessage(error),
  };
  // The tier for attempt n+1 is tiers[n-1]: attempt 1 failing goes to the first tier.
  const tier = tiers[attempt - 1];
  if (isPermanent(error) || tier === undefined) {
    return {
      kind: "dlq",
      topic: dlqTopicName(record.sourceTopic, group),
      headers: { ...history, [HEADER.attempt]: String(attempt) },
    };
  }
  const dueAt = now + toMs(tier);
  return {
    kind: "retry",
    topic: retryTopicName(record.sourceTopic, group, tier),
    dueAt,
    headers: { ...history, [HEADER.attempt]: String(attempt + 1), [HEADER.dueAt]: String(dueAt) },
  };
}
