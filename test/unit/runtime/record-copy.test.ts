import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { copyHeaders, type RecordHeaders } from "../../../runtime/headers.ts";
import { dlqStub, recordCopy } from "../../../runtime/runner/record-copy.ts";
import { BROKER_DEFAULT_MAX_MESSAGE_BYTES, recordBytes, TopicLimits } from "../../../runtime/topic-limits.ts";

/** Headers as other teams' producers send them: binary, a repeated name around another, null, empty, numeric. */
const foreign: RecordHeaders = [
  ["event-id", Buffer.from("e-1")],
  ["blob", Buffer.from([0xff, 0x00, 0xfe, 0x80])],
  ["tag", Buffer.from("a")],
  ["nothing", null],
  ["tag", Buffer.from("b")],
  ["empty", Buffer.alloc(0)],
  ["1", Buffer.from("numeric name")],
];

describe("retry and DLQ copies", () => {
  it("carry every original header byte for byte and in order, Sluice's own after them", () => {
    const copy = copyHeaders(foreign, { attempt: "2", "error-class": "BOOM" });
    expect(copy.slice(0, foreign.length)).toEqual(foreign);
    expect(copy.slice(foreign.length)).toEqual([
      ["attempt", "2"],
      ["error-class", "BOOM"],
    ]);
  });

  it("replace the routing headers a record carries instead of repeating them", () => {
    const forged: RecordHeaders = [
      ["attempt", Buffer.from("4")],
      ["event-id", Buffer.from("e-1")],
      ["original-offset", Buffer.from("0")],
      ["due-at", null],
    ];
    expect(copyHeaders(forged, { attempt: "2", "original-offset": "42" })).toEqual([
      ["event-id", Buffer.from("e-1")],
      ["attempt", "2"],
      ["original-offset", "42"],
    ]);
  });

  it("keep the key and value as they are", () => {
    const record = { key: Buffer.from([0x00, 0xff]), value: Buffer.from("not avro"), headers: foreign };
    expect(recordCopy(record, { attempt: "1" })).toMatchObject({ key: record.key, value: record.value });
  });

  it("become a stub with the coordinates, error, size and digest when they do not fit", () => {
    const value = Buffer.alloc(BROKER_DEFAULT_MAX_MESSAGE_BYTES, 7);
    const routing = { "original-topic": "orders.created", "original-offset": "9", "error-class": "BAD_MAGIC_BYTE" };
    const record = { key: Buffer.from("order-1"), value, headers: foreign };
    const limits = new TopicLimits(["orders.created.g.dlq"]);
    expect(limits.fits("orders.created.g.dlq", recordCopy(record, routing))).toBe(false);

    const stub = dlqStub(record, routing, "too large");
    expect(limits.fits("orders.created.g.dlq", stub)).toBe(true);
    expect(stub.key).toEqual(Buffer.from("order-1"));
    expect(stub.value).toBeNull();
    const headers = Object.fromEntries(stub.headers.map(([name, v]) => [name, v?.toString()]));
    expect(headers).toEqual({
      ...routing,
      stub: "too large",
      "value-bytes": String(value.length),
      "value-sha256": createHash("sha256").update(value).digest("hex"),
    });
  });

  it("count a record's size from its key, value and headers, framing included", () => {
    const small = { key: "k", value: Buffer.alloc(100), headers: [] };
    expect(recordBytes(small)).toBeGreaterThan(101);
    expect(recordBytes({ ...small, headers: foreign })).toBeGreaterThan(recordBytes(small) + 40);
  });
});

describe("topic limits", () => {
  it("size the producer: a record up to the largest topic limit, batches no larger than the smallest", () => {
    const limits = new TopicLimits(["a", "b"]);
    expect(limits.producerConfig()).toEqual({
      maxMessageBytes: BROKER_DEFAULT_MAX_MESSAGE_BYTES,
      batchBytes: expect.any(Number),
    });
    expect(limits.producerConfig().batchBytes).toBeLessThanOrEqual(BROKER_DEFAULT_MAX_MESSAGE_BYTES);
  });
});
