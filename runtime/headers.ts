/** Header names every Sluice record carries (DESIGN.md, "Topic conventions"), and records' headers as Kafka has them. */
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
  /** Key-ordered retries: a record that did not fail but waits behind an older record of its key. */
  parked: "parked",
  /** A DLQ stub (a copy that would not fit its topic): why the value and headers were left out. */
  stub: "stub",
  /** A DLQ stub: the original value's size in bytes and its SHA-256, hex. */
  valueBytes: "value-bytes",
  valueSha256: "value-sha256",
  /** How many times an operator replayed the record from its DLQ (`sluice dlq replay`). */
  replayCount: "replay-count",
  /**
   * A record replayed into an input topic for one group (a DLQ replay of a group without retry tiers, a sink's):
   * that group handles it, every other group skips it.
   */
  replayGroup: "replay-group",
} as const;

/**
 * The headers Sluice sets on the retry, park and DLQ copies it writes. They mean something only on a group's own
 * tiers and DLQ: on an input topic they are whatever its producer wrote, so they are ignored there, and a copy
 * carries Sluice's values in their place.
 */
export const ROUTING_HEADERS: ReadonlySet<string> = new Set([
  HEADER.attempt,
  HEADER.dueAt,
  HEADER.originalTopic,
  HEADER.originalPartition,
  HEADER.originalOffset,
  HEADER.errorClass,
  HEADER.errorMessage,
  HEADER.firstFailedAt,
  HEADER.parked,
  HEADER.stub,
  HEADER.valueBytes,
  HEADER.valueSha256,
]);

/** A record's headers as Kafka carries them: in order, a name may repeat, a value may be null. */
export type RecordHeader = readonly [name: string, value: Buffer | null];
export type RecordHeaders = readonly RecordHeader[];

/** Headers to write: as read, or Sluice's own as text (UTF-8, the client encodes it without a copy here). */
export type OutgoingHeader = readonly [name: string, value: Buffer | string | null];
export type OutgoingHeaders = readonly OutgoingHeader[];

/** The headers of a new event: a fresh event id (the idempotency key), a trace id, and when it was produced. */
export function newEventHeaders(now: number, traceId: string = randomUUID()): Record<string, string> {
  return {
    [HEADER.eventId]: randomUUID(),
    [HEADER.traceId]: traceId,
    [HEADER.producedAt]: String(now),
  };
}

/** Headers as text: the first value of each name, UTF-8 (a null value counts as absent). */
export function textHeaders(headers: RecordHeaders): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of headers) if (value !== null && !(name in text)) text[name] = value.toString();
  return text;
}

/** The routing headers among text headers (those of a record read from a tier: its history). */
export function routingHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => ROUTING_HEADERS.has(name)));
}

/** Text headers as a header list, in the object's order. */
export function headerList(headers: Readonly<Record<string, string>>): OutgoingHeaders {
  return Object.entries(headers);
}

/**
 * A copy's headers: the original's byte for byte and in order, but for Sluice's routing headers, which `own`
 * replaces (appended after the original's).
 */
export function copyHeaders(original: RecordHeaders, own: Readonly<Record<string, string>>): OutgoingHeaders {
  return replaceHeaders(original, ROUTING_HEADERS, own);
}

/** `original` byte for byte and in order, without the headers named in `replaced`, then `own`. */
export function replaceHeaders(
  original: RecordHeaders,
  replaced: ReadonlySet<string>,
  own: Readonly<Record<string, string>>,
): OutgoingHeaders {
  return [...original.filter(([name]) => !replaced.has(name)), ...headerList(own)];
}

/** How many bytes the headers take in a record, at most (names, values and their varint lengths). */
export function headersBytes(headers: OutgoingHeaders): number {
  let bytes = 5;
  for (const [name, value] of headers)
    bytes += 10 + Buffer.byteLength(name) + (value === null ? 0 : Buffer.byteLength(value));
  return bytes;
}
