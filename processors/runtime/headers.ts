/** Header names every Sluice record carries (DESIGN.md, "Topic conventions"). */
import { randomUUID } from "node:crypto";
import type { IHeaders } from "./kafka-client.ts";

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
  /** Key-ordered retries: a record that did not fail but waits behind an older record of its key. */
  parked: "parked",
} as const;

/** The headers of a new event: a fresh event id (the idempotency key), a trace id, and when it was produced. */
export function newEventHeaders(now: number, traceId: string = randomUUID()): Record<string, string> {
  return {
    [HEADER.eventId]: randomUUID(),
    [HEADER.traceId]: traceId,
    [HEADER.producedAt]: String(now),
  };
}

/** Headers as text: the first value of each, UTF-8. */
export function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) text[name] = first.toString();
  }
  return text;
}
