import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { frame, headerList, newEventHeaders, type ProcessorRunner } from "../../runtime/index.ts";
import { valueSubject } from "../../schemas/subjects.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { consumeUntil, produceRaw } from "../support/kafka.ts";
import {
  dropTopics,
  eventually,
  produceStates,
  registry,
  schemas,
  startRunner,
  states,
  testTopic,
} from "../support/runtime.ts";

const stateSchema = schemas.get("sluice.orders.OrderStateChanged")!;
const orderSchema = schemas.get("sluice.orders.OrderCreated")!;

describe("bad input never stops a partition", () => {
  let topic: BusinessTopic;
  let runner: ProcessorRunner;
  const handled: string[] = [];

  beforeAll(async () => {
    topic = await testTopic("poison");
    const definition = states.defineProcessor({
      name: "poison-eater",
      group: "g",
      input: topic.name,
      delivery: "exactly-once",
      keyConcurrency: 1,
      async handler(record) {
        handled.push(record.value.orderId);
      },
    });
    runner = await startRunner(definition, [topic], { maxValueBytes: 65_536 });
  });

  afterAll(async () => {
    await runner.stop();
    await dropTopics([topic]);
    await registry.deleteSubject("test.poison.other-value");
  });

  it("sends each bad-input class to the DLQ with its reason and processes the good records around them", async () => {
    const stateId = await registry.register(valueSubject(topic.name), stateSchema.text);
    const orderId = await registry.register("test.poison.other-value", orderSchema.text);
    const good = stateSchema.type.toBuffer({ orderId: "x", state: "PAID", changedAt: 1n });
    const anOrder = orderSchema.type.toBuffer({
      orderId: "o",
      userId: "u",
      items: [],
      totalCents: 1n,
      currency: "EUR",
      createdAt: 1n,
    });
    const headers = () => newEventHeaders(Date.now());
    const bad: { key: string; value: Buffer | null; headers: Record<string, string>; reason: string }[] = [
      { key: "json", value: Buffer.from('{"orderId":"o"}'), headers: headers(), reason: "BAD_MAGIC_BYTE" },
      { key: "short", value: Buffer.from([0, 0]), headers: headers(), reason: "TRUNCATED" },
      { key: "unknown-id", value: frame(1_999_999_999, good), headers: headers(), reason: "UNKNOWN_SCHEMA_ID" },
      { key: "cut", value: frame(stateId, good.subarray(0, 2)), headers: headers(), reason: "TRUNCATED" },
      {
        key: "trailing",
        value: frame(stateId, Buffer.concat([good, Buffer.from([9, 9])])),
        headers: headers(),
        reason: "INVALID_AVRO",
      },
      { key: "wrong-schema", value: frame(orderId, anOrder), headers: headers(), reason: "SCHEMA_MISMATCH" },
      {
        key: "oversized",
        value: frame(stateId, Buffer.alloc(100_000)),
        headers: headers(),
        reason: "VALUE_TOO_LARGE",
      },
      { key: "no-event-id", value: frame(stateId, good), headers: {}, reason: "MISSING_HEADER" },
      { key: "no-value", value: null, headers: headers(), reason: "MISSING_VALUE" },
    ];
    await produceStates(topic, [{ orderId: "before", state: "CREATED", changedAt: 1n }]);
    await produceRaw(
      topic.name,
      bad.map(({ key, value, headers }) => ({ key, value, headers: headerList(headers) })),
    );
    await produceStates(topic, [{ orderId: "after", state: "CREATED", changedAt: 2n }]);

    expect(await eventually(() => handled.length === 2)).toBe(true);
    expect(handled).toEqual(["before", "after"]);
    const dlq = await consumeUntil(`${topic.name}.g.dlq`, (rs) => rs.length >= bad.length);
    const reasons = Object.fromEntries(dlq.map((r) => [r.key, r.headers["error-class"]?.toString()]));
    expect(reasons).toEqual(Object.fromEntries(bad.map((b) => [b.key, b.reason])));
    for (const record of dlq) {
      expect(record.headers["error-message"]?.toString().length, record.key ?? "").toBeGreaterThan(0);
      expect(record.headers["original-topic"]?.toString()).toBe(topic.name);
    }
    // The DLQ keeps the bytes as they came, for replay.
    expect(dlq.find((r) => r.key === "json")?.value?.toString()).toBe('{"orderId":"o"}');
    expect(runner.isRunning).toBe(true);
  });
});
