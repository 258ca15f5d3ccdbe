/** Header names every Sluice record carries (DESIGN.md, "Topic conventions"). */
import { randomUUID } from "node:crypto";

export const HEADER = {
  eventId: "event-id",
  traceId: "trace-id",
  producedAt: "produced-at",
  attempt: "attempt",
  dueAt: "due-at",
  originalTopic: "original-topic",
  originalPartition: "original-partition",
  originalOffset: "original-offset",
  errorClass: "error-class",
  errorMessage: "error-message",
  firstFailedAt: "first-failed-at",
} as const;

/** The headers of a new event: a fresh event id (the idempotency key), a trace id, and when it was produced. */
export function newEventHeaders(now: number, traceId: string = randomUUID()): Record<string, string> {
  return {
    [HEADER.eventId]: randomUUID(),
    [HEADER.traceId]: traceId,
    [HEADER.producedAt]: String(now),
  };
}
