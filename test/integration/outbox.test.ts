/**
 * The transactional outbox on the real PostgreSQL and Kafka: events written in a service's own transaction reach
 * Kafka once committed, in each key's commit order, never when rolled back, through relays that are SIGKILLed,
 * die between Kafka's acknowledgement and the mark, or run two at once.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Outbox } from "../../connectors/outbox-relay/outbox.ts";
import { OUTBOX_MIGRATIONS, OutboxRelay } from "../../connectors/outbox-relay/outbox-relay.ts";
import {
  AvroSerde,
  BROKER_DEFAULT_MAX_MESSAGE_BYTES,
  HEADER,
  headerList,
  inTransaction,
  migrate,
  newEventHeaders,
  recordBytes,
  runtimeConfig,
} from "../../runtime/index.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { consumeUntil, kafka, type RawRecord } from "../support/kafka.ts";
import { createTopics, dropTopics, eventually, registry, schemas, testTopic } from "../support/runtime.ts";
import { killChildren, startRelay } from "../support/services.ts";
import { type StateEvent, stateEvent, testTopicSpec } from "../support/topics.ts";

const { databaseUrl } = runtimeConfig();
const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
const quiet = pino({ level: "silent" });
const created: BusinessTopic[] = [];
const relays: OutboxRelay[] = [];
const serde = new AvroSerde(registry);

beforeAll(() => migrate(pool, [OUTBOX_MIGRATIONS]));

afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
  killChildren();
  await pool.query("DELETE FROM sluice_outbox WHERE topic = ANY($1)", [created.map((t) => t.name)]);
  await dropTopics(created.splice(0));
});

afterAll(() => pool.end());

async function outboxTopic(): Promise<{ topic: BusinessTopic; outbox: Outbox }> {
  const topic = await testTopic("outbox", { partitions: 3 });
  created.push(topic);
  return { topic, outbox: new Outbox({ serde, topics: [topic], schemas }) };
}

const unpublished = async (topic: BusinessTopic) =>
  Number(
    (await pool.query("SELECT count(*) FROM sluice_outbox WHERE topic = $1 AND published_at IS NULL", [topic.name]))
      .rows[0].count,
  );

/** Each key's values in the order Kafka has them, each event id counted once (a republished copy dropped). */
async function firstCopies(records: RawRecord[]): Promise<Map<string, StateEvent[]>> {
  const seen = new Set<string>();
  const byKey = new Map<string, StateEvent[]>();
  for (const record of records) {
    const eventId = record.headers[HEADER.eventId] ?? "";
    if (seen.has(eventId)) continue;
    seen.add(eventId);
    const { value } = await serde.decode<StateEvent>(record.value as Buffer);
    byKey.set(record.key ?? "", [...(byKey.get(record.key ?? "") ?? []), value]);
  }
  return byKey;
}

/** A state event for key `key` whose record, as the outbox writes it, is `bytes` long. */
async function eventOfBytes(topic: BusinessTopic, key: string, bytes: number): Promise<StateEvent> {
  const schema = schemas.get(topic.valueSchema);
  const size = async (event: StateEvent) => {
    const value = await serde.encode(`${topic.name}-value`, schema as NonNullable<typeof schema>, event);
    return recordBytes({ key, value, headers: headerList(newEventHeaders(Date.now())) });
  };
  // Past 8 KiB, the orderId's length takes three bytes where one character's takes one.
  const event = stateEvent("x".repeat(bytes - (await size(stateEvent("x", "CREATED"))) - 1), "CREATED");
  expect(await size(event)).toBe(bytes);
  return event;
}

describe("transactional outbox", () => {
  it("publishes committed events in each key's commit order, a later id first when it commits first, never a rolled-back one", async () => {
    const { topic, outbox } = await outboxTopic();
    const relay = new OutboxRelay({ databaseUrl, kafka, log: quiet, pollMs: 200 });
    relays.push(relay);
    await relay.start();

    const open = await pool.connect();
    await open.query("BEGIN");
    await outbox.publish(open, topic.name, "o-1", stateEvent("o-1", "CREATED", 1n)); // lower id, commits last
    await inTransaction(pool, (tx) => outbox.publish(tx, topic.name, "o-2", stateEvent("o-2", "CREATED", 1n)));
    await inTransaction(pool, (tx) => outbox.publish(tx, topic.name, "o-3", stateEvent("o-3", "CREATED", 1n)), false);
    // A second writer of o-1 waits for the first to commit: its event comes after, whatever the ids.
    const second = inTransaction(pool, (tx) => outbox.publish(tx, topic.name, "o-1", stateEvent("o-1", "PAID", 2n)));
    const waited = await Promise.race([second.then(() => false), new Promise((r) => setTimeout(() => r(true), 500))]);
    expect(waited).toBe(true);
    const early = await consumeUntil(topic.name, (records) => records.length >= 1, 10_000, 500);
    expect(early.map((r) => r.key)).toEqual(["o-2"]); // committed while o-1's was still open
    await open.query("COMMIT");
    open.release();
    await second;

    const records = await consumeUntil(topic.name, (r) => r.length >= 3, 15_000, 1_000);
    const byKey = await firstCopies(records);
    expect(byKey.get("o-1")?.map((v) => v.state)).toEqual(["CREATED", "PAID"]);
    expect(byKey.has("o-3")).toBe(false);
    expect(records).toHaveLength(3);
    expect(new Set(records.map((r) => r.headers[HEADER.eventId])).size).toBe(3);
  });

  it("delivers every committed event, each key in order, though its relay is SIGKILLed five times", async () => {
    const { topic, outbox } = await outboxTopic();
    const committed: string[] = [];
    const writing = (async () => {
      for (let i = 0; i < 2_000; i++) {
        const key = `order-${i % 20}`;
        const seq = BigInt(Math.floor(i / 20));
        const commit = i % 10 !== 9;
        const eventId = await inTransaction(
          pool,
          (tx) => outbox.publish(tx, topic.name, key, stateEvent(key, "PAID", seq)),
          commit,
        );
        if (commit) committed.push(eventId);
      }
    })();
    for (let kill = 0; kill < 5; kill++) {
      const relay = startRelay();
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // started, publishing some, then killed
      relay.child.kill("SIGKILL");
      await relay.exited;
    }
    await writing;
    startRelay();
    expect(await eventually(async () => (await unpublished(topic)) === 0, 60_000)).toBe(true);
    const records = await consumeUntil(
      topic.name,
      (r) => new Set(r.map((x) => x.headers[HEADER.eventId])).size >= committed.length,
      30_000,
      1_000,
    );
    expect(new Set(records.map((r) => r.headers[HEADER.eventId]))).toEqual(new Set(committed));
    for (const values of (await firstCopies(records)).values()) {
      const seqs = values.map((v) => Number(v.changedAt));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  }, 120_000);

  it("checks back after dying between Kafka's acknowledgement and the mark: republished with the same event ids", async () => {
    const { topic, outbox } = await outboxTopic();
    const ids = await inTransaction(pool, (tx) =>
      Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          outbox.publish(tx, topic.name, `o-${i}`, stateEvent(`o-${i}`, "CREATED", 0n)),
        ),
      ),
    );
    const dying = startRelay({ SLUICE_CRASH_AT: "outbox.produced:1" });
    expect(await dying.exited).toBe("SIGKILL");
    expect(await unpublished(topic)).toBe(10); // in Kafka, not marked: uncertain
    startRelay();
    expect(await eventually(async () => (await unpublished(topic)) === 0, 30_000)).toBe(true);
    const records = await consumeUntil(topic.name, (r) => r.length >= 20, 15_000, 1_000);
    expect(records).toHaveLength(20);
    expect(new Set(records.map((r) => r.headers[HEADER.eventId]))).toEqual(new Set(ids)); // one effect each
  });

  it("keeps each key's order with two relays running at once (one publishes, the other stands by)", async () => {
    const { topic, outbox } = await outboxTopic();
    startRelay();
    startRelay();
    for (let i = 0; i < 500; i++) {
      const key = `order-${i % 10}`;
      await inTransaction(pool, (tx) => outbox.publish(tx, topic.name, key, stateEvent(key, "PAID", BigInt(i))));
    }
    expect(await eventually(async () => (await unpublished(topic)) === 0, 30_000)).toBe(true);
    const records = await consumeUntil(topic.name, (r) => r.length >= 500, 15_000, 1_000);
    expect(records).toHaveLength(500);
    for (const values of (await firstCopies(records)).values()) {
      const seqs = values.map((v) => Number(v.changedAt));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it("publishes other topics' rows while a topic Kafka does not have waits, then that topic's once it exists", async () => {
    const { topic, outbox } = await outboxTopic();
    const missing = testTopicSpec(`test.outbox-missing.${randomUUID().slice(0, 8)}`);
    created.push(missing);
    await registry.register(`${missing.name}-value`, schemas.get(missing.valueSchema)?.text ?? "");
    const both = new Outbox({ serde, topics: [topic, missing], schemas });
    const relay = new OutboxRelay({ databaseUrl, kafka, log: quiet, pollMs: 200 });
    relays.push(relay);
    await relay.start();
    await inTransaction(pool, async (tx) => {
      await both.publish(tx, missing.name, "o-1", stateEvent("o-1", "CREATED", 1n));
      await outbox.publish(tx, topic.name, "o-2", stateEvent("o-2", "CREATED", 1n));
    });
    // The existing topic's row goes out at once: no send to the missing topic waits out a delivery timeout first.
    expect(await eventually(async () => (await unpublished(topic)) === 0, 10_000)).toBe(true);
    expect(await unpublished(missing)).toBe(1);
    await createTopics([missing]);
    expect(await eventually(async () => (await unpublished(missing)) === 0, 30_000)).toBe(true);
    const records = await consumeUntil(missing.name, (r) => r.length >= 1, 10_000, 500);
    expect(records.map((r) => r.key)).toEqual(["o-1"]);
  });

  it("refuses an event larger than its topic takes in the writer's transaction; one at the limit reaches Kafka", async () => {
    const { topic, outbox } = await outboxTopic();
    const over = await eventOfBytes(topic, "o-over", BROKER_DEFAULT_MAX_MESSAGE_BYTES + 1);
    const refused = inTransaction(pool, (tx) => outbox.publish(tx, topic.name, "o-over", over));
    await expect(refused).rejects.toMatchObject({ code: "VALUE_TOO_LARGE" });
    const atLimit = await eventOfBytes(topic, "o-limit", BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    await inTransaction(pool, async (tx) => {
      await outbox.publish(tx, topic.name, "o-limit", atLimit);
      await outbox.publish(tx, topic.name, "o-after", stateEvent("o-after", "CREATED"));
    });
    const relay = new OutboxRelay({ databaseUrl, kafka, log: quiet, pollMs: 200 });
    relays.push(relay);
    await relay.start();
    const records = await consumeUntil(topic.name, (r) => r.length >= 2, 30_000, 500);
    expect(records.map((r) => r.key).sort()).toEqual(["o-after", "o-limit"]);
    expect(records.find((r) => r.key === "o-limit")?.value?.length).toBe(
      (await serde.encode(`${topic.name}-value`, schemas.get(topic.valueSchema) as never, atLimit)).length,
    );
    expect(await unpublished(topic)).toBe(0);
  });

  it("sets aside a row larger than its topic takes on the cluster, and publishes the topic's later rows", async () => {
    const { topic, outbox } = await outboxTopic();
    const admin = kafka.admin();
    await admin.connect();
    await admin.setTopicConfig(topic.name, "max.message.bytes", "10000").finally(() => admin.disconnect());
    await inTransaction(pool, async (tx) => {
      await outbox.publish(tx, topic.name, "o-1", await eventOfBytes(topic, "o-1", 20_000));
      await outbox.publish(tx, topic.name, "o-1", stateEvent("o-1", "PAID", 2n));
      await outbox.publish(tx, topic.name, "o-2", stateEvent("o-2", "CREATED", 1n));
    });
    const relay = new OutboxRelay({ databaseUrl, kafka, log: quiet, pollMs: 200 });
    relays.push(relay);
    await relay.start();
    const records = await consumeUntil(topic.name, (r) => r.length >= 2, 30_000, 500);
    const values = await firstCopies(records);
    expect((values.get("o-1") ?? []).map((v) => v.state)).toEqual(["PAID"]);
    expect((values.get("o-2") ?? []).map((v) => v.state)).toEqual(["CREATED"]);
    const { rows } = await pool.query(
      "SELECT key, refused FROM sluice_outbox WHERE topic = $1 AND published_at IS NULL",
      [topic.name],
    );
    expect(rows).toEqual([{ key: "o-1", refused: expect.stringContaining("VALUE_TOO_LARGE") }]);
  });
});
