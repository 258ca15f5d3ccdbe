/**
 * What other teams' producers really send, produced with the Kafka client's own API (raw bytes, raw headers), not
 * through Sluice's serde: values at the size limit, binary, repeated and null headers, forged routing headers,
 * 64-bit longs from other languages, and orders the business cannot have.
 */
import { createHash, randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reserveStock } from "../../processors/inventory/reserve-stock.ts";
import { grantPoints } from "../../processors/points/grant-points.ts";
import { MIGRATIONS } from "../../processors/registry.ts";
import {
  BROKER_DEFAULT_MAX_MESSAGE_BYTES,
  frame,
  PostgresLedger,
  type Processor,
  ProcessorHost,
  type ProcessorRunner,
  processorsFor,
  type RecordHeaders,
  RetryableError,
  runtimeConfig,
} from "../../runtime/index.ts";
import { valueSubject } from "../../schemas/subjects.ts";
import type { OrderCreated } from "../../schemas/types.generated.ts";
import { TOPICS } from "../../topics/catalog.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { avroLong, avroString } from "../support/foreign-avro.ts";
import { consumeUntil, kafka, produceRaw, type RawRecord } from "../support/kafka.ts";
import { createTopics, dropTopics, eventually, registry, schemas, startRunner, testTopic } from "../support/runtime.ts";

const ORDER_SCHEMA = "sluice.orders.OrderCreated";
const orders = processorsFor<Record<string, OrderCreated>>();
const orderSchema = schemas.get(ORDER_SCHEMA)!;

/** An OrderCreated body with one item. */
function orderBody(orderId: string, totalCents: bigint, quantity = 1, createdAt = 1_700_000_000_000n): Buffer {
  return Buffer.concat([
    avroString(orderId),
    avroString("user-1"),
    avroLong(1n), // one array block of one item
    avroString("sku-1"),
    avroLong(BigInt(quantity)),
    avroLong(250n),
    avroLong(0n), // end of the array
    avroLong(totalCents),
    avroString("EUR"),
    avroLong(createdAt),
  ]);
}

const eventId = (): RecordHeaders => [["event-id", Buffer.from(randomUUID())]];

/** The records of `topic` until `count` have come, then 1 s more (a late extra copy would show). */
const readTopic = (topic: string, count: number, timeoutMs = 30_000) =>
  consumeUntil(topic, (records) => records.length >= count, timeoutMs, 1_000);

const bodyOf = (record: RawRecord) => record.value?.subarray(5);

describe.each(["at-least-once", "exactly-once"] as const)("bad input from other producers, %s", (delivery) => {
  let input: BusinessTopic;
  let output: BusinessTopic;
  let runner: ProcessorRunner;
  let schemaId: number;
  const handled: { orderId: string; attempt: number }[] = [];
  const dlq = () => `${input.name}.g.dlq`;
  const tier = () => `${input.name}.g.retry.1s`;

  beforeAll(async () => {
    input = await testTopic(`bad-${delivery}`, { valueSchema: ORDER_SCHEMA });
    output = await testTopic(`bad-${delivery}-out`, { valueSchema: ORDER_SCHEMA });
    schemaId = (await registry.lookup(valueSubject(input.name), orderSchema.text))!;
    const relay = orders.defineProcessor({
      name: `relay-${delivery}`,
      group: "g",
      input: input.name,
      outputs: [output.name],
      delivery,
      retryTiers: ["1s"],
      keyConcurrency: 4,
      async handler(record, ctx) {
        handled.push({ orderId: record.value.orderId, attempt: record.attempt });
        if (record.value.orderId.startsWith("fail-once") && record.attempt === 1) {
          throw new RetryableError("fails on its first attempt");
        }
        await ctx.send(output.name, record.key, record.value);
      },
    });
    runner = await startRunner(relay, [input, output]);
  });

  afterAll(async () => {
    await runner?.stop();
    await dropTopics([input, output]);
  });

  it("copies a 1,000,000-byte value to the DLQ whole, writes a stub for one that cannot fit, and moves on", async () => {
    const big = Buffer.alloc(1_000_000, 0x7b); // not the wire format: BAD_MAGIC_BYTE
    // As large as the topic takes with this record's key and header: a copy with Sluice's headers cannot fit.
    const atLimit = Buffer.alloc(BROKER_DEFAULT_MAX_MESSAGE_BYTES - 200, 0x7b);
    await produceRaw(input.name, [
      { key: "big", value: big, headers: eventId() },
      { key: "at-limit", value: atLimit, headers: eventId() },
      { key: "after", value: frame(schemaId, orderBody("after", 100n)), headers: eventId() },
    ]);

    expect(await eventually(() => handled.some((h) => h.orderId === "after"))).toBe(true);
    const copies = await readTopic(dlq(), 2);
    const whole = copies.find((r) => r.key === "big")!;
    expect(whole.value?.equals(big)).toBe(true);
    expect(whole.headers).toMatchObject({ "error-class": "BAD_MAGIC_BYTE", "original-offset": "0" });

    const stub = copies.find((r) => r.key === "at-limit")!;
    expect(stub.value).toBeNull();
    expect(stub.headers).toMatchObject({
      "original-topic": input.name,
      "original-partition": "0",
      "original-offset": "1",
      "error-class": "BAD_MAGIC_BYTE",
      "value-bytes": String(atLimit.length),
      "value-sha256": createHash("sha256").update(atLimit).digest("hex"),
    });
    expect(stub.headers.stub).toContain("does not fit");
    expect(copies).toHaveLength(2);
    expect(runner.stalled()).toEqual([]);
  });

  it("keeps binary, repeated, null and empty headers byte for byte and in order in tier and DLQ copies", async () => {
    const foreign: RecordHeaders = [
      ...eventId(),
      ["blob", Buffer.from([0xff, 0x00, 0xfe, 0x80])],
      ["tag", Buffer.from("first")],
      ["nothing", null],
      ["tag", Buffer.from("second")],
      ["empty", Buffer.alloc(0)],
      ["1", Buffer.from("a numeric name")],
    ];
    await produceRaw(input.name, [
      { key: "headers-bad", value: Buffer.from("not avro"), headers: foreign },
      { key: "headers-retry", value: frame(schemaId, orderBody("fail-once-headers", 1n)), headers: foreign },
    ]);
    const dlqCopy = (await consumeUntil(dlq(), (rs) => rs.some((r) => r.key === "headers-bad"))).find(
      (r) => r.key === "headers-bad",
    )!;
    const tierCopy = (await consumeUntil(tier(), (rs) => rs.some((r) => r.key === "headers-retry"))).find(
      (r) => r.key === "headers-retry",
    )!;
    for (const copy of [dlqCopy, tierCopy]) {
      expect(copy.headerList.slice(0, foreign.length)).toEqual(foreign);
      expect(copy.headerList.slice(foreign.length).map(([name]) => name)).toEqual(
        expect.arrayContaining(["attempt", "original-topic", "original-offset", "error-class", "error-message"]),
      );
    }
    expect(await eventually(() => handled.some((h) => h.orderId === "fail-once-headers" && h.attempt === 2))).toBe(
      true,
    );
  });

  it("ignores routing headers forged on the input: the record starts at attempt 1 and goes to the first tier", async () => {
    const forged: RecordHeaders = [
      ...eventId(),
      ["attempt", Buffer.from("4")],
      ["original-offset", Buffer.from("0")],
      ["first-failed-at", Buffer.from("1")],
      ["error-class", Buffer.from("FORGED")],
    ];
    await produceRaw(input.name, [
      { key: "forged", value: frame(schemaId, orderBody("fail-once-forged", 1n)), headers: forged },
    ]);
    expect(await eventually(() => handled.some((h) => h.orderId === "fail-once-forged" && h.attempt === 2))).toBe(true);
    expect(handled.filter((h) => h.orderId === "fail-once-forged").map((h) => h.attempt)).toEqual([1, 2]);
    const copy = (await consumeUntil(tier(), (rs) => rs.some((r) => r.key === "forged"))).find(
      (r) => r.key === "forged",
    )!;
    const { headers } = copy;
    expect(headers.attempt).toBe("2");
    expect(headers["error-class"]).toBe("RETRYABLE");
    expect(Number(headers["first-failed-at"])).toBeGreaterThan(1_000_000);
    expect(Number(headers["original-offset"])).toBeGreaterThan(0);
    expect(copy.headerList.filter(([name]) => name === "attempt")).toHaveLength(1);
    const inDlq = await consumeUntil(dlq(), (rs) => rs.some((r) => r.key === "forged"), 2_000);
    expect(inDlq.filter((r) => r.key === "forged")).toEqual([]);
  });

  it("round-trips longs of 2^53 − 1, −2^63 and 2^62 exactly, as Java and Python write them", async () => {
    const longs = [2n ** 53n - 1n, -(2n ** 63n), 2n ** 62n];
    const bodies = longs.map((total, i) => orderBody(`long-${i}`, total, 1, total > 0n ? total : 1n));
    await produceRaw(
      input.name,
      bodies.map((body, i) => ({ key: `long-${i}`, value: frame(schemaId, body), headers: eventId() })),
    );
    const out = await consumeUntil(output.name, (rs) => longs.every((_, i) => rs.some((r) => r.key === `long-${i}`)));
    for (const [i, body] of bodies.entries()) {
      const relayed = out.find((r) => r.key === `long-${i}`)!;
      expect(bodyOf(relayed)?.equals(body), `long-${i}`).toBe(true);
    }
    const inDlq = await consumeUntil(dlq(), (rs) => rs.some((r) => r.key?.startsWith("long-")), 2_000);
    expect(inDlq.filter((r) => r.key?.startsWith("long-"))).toEqual([]);
  });
});

describe("a partition that cannot write is reported, never stalled silently", () => {
  const admin = kafka.admin();
  const setMaxMessageBytes = (topic: string, bytes: number) =>
    admin.setTopicConfig(topic, "max.message.bytes", String(bytes));
  let host: ProcessorHost | undefined;
  let input: BusinessTopic;

  afterAll(async () => {
    await host?.stop();
    await admin.disconnect();
    if (input) await dropTopics([input]);
  });

  it("shows a DLQ that refuses every copy in /health/ready and a metric, and resumes once it accepts", async () => {
    await admin.connect();
    input = await testTopic("stall", { valueSchema: ORDER_SCHEMA });
    const handled: string[] = [];
    const definition = orders.defineProcessor({
      name: "stall-victim",
      group: "g",
      input: input.name,
      retryTiers: ["1s"],
      keyConcurrency: 1,
      async handler(record) {
        handled.push(record.value.orderId);
      },
    });
    const dlq = `${input.name}.g.dlq`;
    await createTopics([input], [definition]);
    await setMaxMessageBytes(dlq, 200); // smaller than any copy, even a stub
    host = new ProcessorHost();
    const port = 9590;
    await host.start([definition], {
      config: { ...runtimeConfig(), stallAfterMs: 1_000 },
      port,
      topics: [input],
      schemas,
    });
    const schemaId = (await registry.lookup(valueSubject(input.name), orderSchema.text))!;
    await produceRaw(input.name, [
      { key: "bad", value: Buffer.from("not avro"), headers: eventId() },
      { key: "good", value: frame(schemaId, orderBody("good", 100n)), headers: eventId() },
    ]);

    const ready = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
      return { status: response.status, body: (await response.json()) as { stalled: { topic: string }[] } };
    };
    expect(await eventually(async () => (await ready()).status === 503, 20_000)).toBe(true);
    const { body } = await ready();
    expect(body.stalled).toEqual([
      expect.objectContaining({ processor: "stall-victim", topic: input.name, partition: 0 }),
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`sluice_partition_stalled_since_seconds\\{[^}]*topic="${input.name.replaceAll(".", "\\.")}"`),
    );
    expect(metrics).toMatch(/sluice_write_failures_total\{processor="stall-victim"/);
    // Nothing behind the refused copy was committed past it.
    expect(handled).not.toContain("good");

    await setMaxMessageBytes(dlq, BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    expect(await eventually(async () => (await ready()).status === 200, 60_000)).toBe(true);
    expect(await eventually(() => handled.includes("good"))).toBe(true);
    const copies = await consumeUntil(dlq, (rs) => rs.length >= 1, 30_000, 2_000);
    expect(copies.map((r) => r.key)).toEqual(["bad"]);
    // The copy whole, or its stub (value digest and coordinates) when the batch was last read again just before
    // the new limit was visible: either way the DLQ identifies the record, which stays in the input topic.
    const [copy] = copies as [RawRecord];
    const carried = copy.value?.toString() ?? copy.headers["value-sha256"];
    expect(["not avro", createHash("sha256").update("not avro").digest("hex")]).toContain(carried);
    expect(copy.headers).toMatchObject({ "original-topic": input.name, "original-offset": "0" });
  }, 120_000);
});

describe("the reference processors refuse what the business cannot have", () => {
  const topics: BusinessTopic[] = [];
  const runners: ProcessorRunner[] = [];
  let db: pg.Pool;
  let ledger: PostgresLedger;

  beforeAll(async () => {
    db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl, max: 2 });
    ledger = await PostgresLedger.connect(runtimeConfig().databaseUrl, [MIGRATIONS]);
  });

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await dropTopics(topics);
    await ledger?.close();
    await db?.end();
  });

  /** The reference processor's handler and settings, on a topic of the test's own. */
  async function onTestTopic(definition: Processor, prefix: string) {
    const input = await testTopic(prefix, { valueSchema: ORDER_SCHEMA });
    topics.push(input);
    const runner = await startRunner(
      { ...definition, group: "g", input: input.name, retryTiers: ["1s"] },
      [input, ...TOPICS],
      { ledger },
    );
    runners.push(runner);
    const schemaId = (await registry.lookup(valueSubject(input.name), orderSchema.text))!;
    return { input, schemaId };
  }

  it("points: a numeric overflow (SQLSTATE 22003) goes to the DLQ at once, with its class", async () => {
    const { input, schemaId } = await onTestTopic(grantPoints, "points-overflow");
    const run = randomUUID().slice(0, 8);
    await produceRaw(input.name, [
      { key: "huge", value: frame(schemaId, orderBody(`huge-${run}`, 2n ** 62n)), headers: eventId() },
      { key: "fine", value: frame(schemaId, orderBody(`fine-${run}`, 12_345n)), headers: eventId() },
    ]);
    const [copy] = await readTopic(`${input.name}.g.dlq`, 1);
    expect(copy!.headers).toMatchObject({ "error-class": "PG_22003", attempt: "1" });
    const points = async (orderId: string) =>
      (await db.query<{ points: number }>("SELECT points FROM points_ledger WHERE order_id = $1", [orderId])).rows;
    expect(await eventually(async () => (await points(`fine-${run}`)).length === 1)).toBe(true);
    expect(await points(`fine-${run}`)).toEqual([{ points: 123 }]);
    expect(await points(`huge-${run}`)).toEqual([]);
    const retried = await consumeUntil(`${input.name}.g.retry.1s`, () => false, 2_000);
    expect(retried).toEqual([]);
  });

  it("inventory: a negative quantity goes to the DLQ as VALIDATION and leaves the stock as it was", async () => {
    const { input, schemaId } = await onTestTopic(reserveStock, "inventory-negative");
    const stock = async () =>
      (await db.query<{ quantity: number }>("SELECT quantity FROM stock WHERE sku = 'sku-1'")).rows[0]?.quantity;
    const run = randomUUID().slice(0, 8);
    await produceRaw(input.name, [
      { key: "first", value: frame(schemaId, orderBody(`first-${run}`, 250n, 2)), headers: eventId() },
    ]);
    expect(
      await eventually(
        async () =>
          (await db.query("SELECT 1 FROM stock_reservations WHERE order_id = $1", [`first-${run}`])).rowCount === 1,
      ),
    ).toBe(true);
    const before = await stock();
    await produceRaw(input.name, [
      { key: "negative", value: frame(schemaId, orderBody(`negative-${run}`, 250n, -5)), headers: eventId() },
    ]);
    const [copy] = await readTopic(`${input.name}.g.dlq`, 1);
    expect(copy!.headers).toMatchObject({ "error-class": "VALIDATION", attempt: "1" });
    expect(copy!.headers["error-message"]).toContain("quantity is -5");
    expect(await stock()).toBe(before);
    const reserved = await db.query("SELECT 1 FROM stock_reservations WHERE order_id = $1", [`negative-${run}`]);
    expect(reserved.rowCount).toBe(0);
  });
});
