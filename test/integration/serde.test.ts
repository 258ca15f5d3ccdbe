import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { AvroSerde, DecodeError, EncodeError, frame, runtimeConfig } from "../../runtime/index.ts";
import { SchemaRegistryClient } from "../../schemas/registry-client.ts";
import type { OrderCreated } from "../../schemas/types.generated.ts";
import { consumeUntil, createTestTopic, deleteTopics, produceRaw } from "../support/kafka.ts";
import { produceToCatalog, registry, schemas } from "../support/runtime.ts";

const orderCreated = schemas.get("sluice.orders.OrderCreated")!;
const stateChanged = schemas.get("sluice.orders.OrderStateChanged")!;

describe("Avro through the registry and the broker", () => {
  const topics: string[] = [];

  afterAll(async () => {
    if (topics.length) await deleteTopics(topics);
  });

  it("round-trips a typed record, with the wire-format header on the topic", async () => {
    const order: OrderCreated = {
      orderId: `order-${randomUUID()}`,
      userId: "user-1",
      items: [{ sku: "sku-mug", quantity: 2, unitPriceCents: 1_250n }],
      totalCents: 2_500n,
      currency: "EUR",
      createdAt: BigInt(Date.now()),
    };
    const [sent] = await produceToCatalog("orders.created", [order]);
    const records = await consumeUntil("orders.created", (rs) => rs.some((r) => r.key === order.orderId));
    const record = records.find((r) => r.key === order.orderId);
    expect(record).toBeDefined();
    const bytes = record!.value!;
    const registeredId = await registry.lookup("orders.created-value", orderCreated.text);
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(registeredId);
    expect(record!.headers["event-id"]?.toString()).toBe(sent!.eventId);
    expect(record!.headers["trace-id"]?.toString()).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(record!.headers["produced-at"]?.toString())).toBeGreaterThan(0);
    // A fresh serde: the writer schema comes from the registry by id, not from a local cache.
    const decoded = await new AvroSerde(registry).decode<OrderCreated>(bytes, orderCreated.type);
    expect(decoded).toEqual({ value: order, schemaId: registeredId });
  });

  it("raises a typed error for every class of bad bytes a consumer can read", async () => {
    const topic = await createTestTopic("serde-bad-input");
    topics.push(topic);
    const id = await registry.lookup("orders.created-value", orderCreated.text);
    const good = orderCreated.type.toBuffer({
      orderId: "o-1",
      userId: "u-1",
      items: [],
      totalCents: 0,
      currency: "EUR",
      createdAt: 0,
    });
    const unknownId = 2_000_000_000;
    const cases: [string, Buffer, string][] = [
      ["bad-magic", Buffer.from('{"orderId":"o-1"}'), "BAD_MAGIC_BYTE"],
      ["short-header", Buffer.from([0, 0, 0]), "TRUNCATED"],
      ["unknown-id", frame(unknownId, good), "UNKNOWN_SCHEMA_ID"],
      ["truncated-avro", frame(id!, good.subarray(0, good.length - 3)), "TRUNCATED"],
      ["trailing-bytes", frame(id!, Buffer.concat([good, Buffer.from([1, 2, 3])])), "INVALID_AVRO"],
    ];
    await produceRaw(
      topic,
      cases.map(([key, value]) => ({ key, value })),
    );
    const records = await consumeUntil(topic, (rs) => rs.length === cases.length);
    const serde = new AvroSerde(registry);
    for (const [key, , code] of cases) {
      const record = records.find((r) => r.key === key);
      const error = await serde.decode(record!.value!, orderCreated.type).catch((e: unknown) => e);
      expect(error, key).toBeInstanceOf(DecodeError);
      expect((error as DecodeError).code, key).toBe(code);
    }
    const unknown = await serde.decode(frame(unknownId, good)).catch((e: DecodeError) => e);
    expect((unknown as DecodeError).schemaId).toBe(unknownId);
    expect((unknown as DecodeError).message).toContain(`schema id ${unknownId} is not in the registry`);
  });

  it("refuses a record whose writer schema does not fit the reader", async () => {
    const serde = new AvroSerde(registry);
    const bytes = await serde.encode("orders.created-value", orderCreated, {
      orderId: "o-2",
      userId: "u-2",
      items: [],
      totalCents: 1,
      currency: "EUR",
      createdAt: 1,
    });
    const error = await serde.decode(bytes, stateChanged.type).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).code).toBe("SCHEMA_MISMATCH");
    expect((error as DecodeError).message).toContain("cannot be read as sluice.orders.OrderStateChanged");
  });

  it("refuses to encode a value that does not fit, naming the fields", async () => {
    const serde = new AvroSerde(registry);
    const error = await serde
      .encode("orders.created-value", orderCreated, {
        orderId: 42,
        userId: "u",
        items: [],
        totalCents: "x",
        createdAt: 1,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EncodeError);
    // `currency` is missing too, but it has a default: Avro writes the default, as the spec says.
    expect((error as EncodeError).paths).toEqual(["orderId", "totalCents"]);
  });

  it("refuses to encode with a schema the subject does not have", async () => {
    const serde = new AvroSerde(registry);
    const error = await serde
      .encode("orders.created-value", stateChanged, { orderId: "o", state: "PAID", changedAt: 1 })
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("SCHEMA_NOT_REGISTERED");
  });

  it("fetches a writer schema from the registry once per id", async () => {
    let fetches = 0;
    const counting = new SchemaRegistryClient(runtimeConfig().schemaRegistryUrl);
    const original = counting.schemaById.bind(counting);
    counting.schemaById = (schemaId: number) => {
      fetches += 1;
      return original(schemaId);
    };
    const serde = new AvroSerde(counting);
    const bytes = await serde.encode("orders.state-value", stateChanged, { orderId: "o", state: "PAID", changedAt: 1 });
    await Promise.all(Array.from({ length: 20 }, () => serde.decode(bytes, stateChanged.type)));
    expect(fetches).toBe(1);
  });
});
