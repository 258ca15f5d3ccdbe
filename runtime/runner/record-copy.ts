/**
 * What a retry tier, a park or the DLQ gets for a consumed record: its key, value and headers byte for byte (in
 * order, repeated names and null values too) with Sluice's routing headers in place of any it carried. When that
 * copy would not fit the DLQ, the DLQ gets a stub instead: the record's coordinates, the error, the value's size
 * and digest. The original stays readable in its topic for the topic's retention.
 */
import { createHash } from "node:crypto";
import { copyHeaders, HEADER, headerList } from "../headers.ts";
import type { ConsumedRecord, OutgoingMessage } from "../kafka/port.ts";

type Copied = Pick<ConsumedRecord, "key" | "value" | "headers">;

/** A stub keeps the record's key only up to this size, so that the stub itself fits any sensible topic. */
const STUB_MAX_KEY_BYTES = 1_024;

export function recordCopy(record: Copied, routing: Readonly<Record<string, string>>): OutgoingMessage {
  return { key: record.key, value: record.value, headers: copyHeaders(record.headers, routing) };
}

export function dlqStub(record: Copied, routing: Readonly<Record<string, string>>, why: string): OutgoingMessage {
  const value = record.value ?? Buffer.alloc(0);
  return {
    key: record.key && record.key.length <= STUB_MAX_KEY_BYTES ? record.key : null,
    value: null,
    headers: headerList({
      ...routing,
      [HEADER.stub]: why,
      [HEADER.valueBytes]: String(record.value?.length ?? 0),
      [HEADER.valueSha256]: createHash("sha256").update(value).digest("hex"),
    }),
  };
}
