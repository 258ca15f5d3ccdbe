/**
 * The transactional outbox, each figure beside a baseline in the same run:
 *
 *   outbox_rps             a writer loop of transactions (a business row and its event through Outbox.publish, then
 *                          COMMIT) with the relay running: events a second from the first commit until Kafka
 *                          acknowledged the last (all marked)
 *   raw_insert_produce_rps the same loop without an outbox: the business row committed, then the event produced and
 *                          its acknowledgement awaited, one after the other
 *   outbox_p50_ms, _p99_ms commit-to-publish latency (COMMIT returned → a consumer has the record), events 20ms
 *                          apart, with LISTEN/NOTIFY; outbox_poll_*: polling alone (every second)
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import pino from "pino";
import { Outbox } from "../../connectors/outbox-relay/outbox.ts";
import { OUTBOX_MIGRATIONS, OutboxRelay } from "../../connectors/outbox-relay/outbox-relay.ts";
import { AvroSerde, HEADER, inTransaction, migrate, runtimeConfig, textHeaders } from "../../runtime/index.ts";
import { kafka } from "../support/kafka.ts";
import { createTopics, dropTopics, registry, schemas } from "../support/runtime.ts";
import { stateEvent, testTopicSpec } from "../support/topics.ts";

const EVENTS = Number(process.env.BENCH_OUTBOX_EVENTS || 3_000);
const LATENCY_EVENTS = 200;

export interface OutboxFigures {
  outbox_events: number;
  outbox_rps: number;
  raw_insert_produce_rps: number;
  outbox_p50_ms: number;
  outbox_p99_ms: number;
  outbox_poll_p50_ms: number;
  outbox_poll_p99_ms: number;
  ratios: { outbox_vs_raw: number };
}

export async function benchOutbox(log: (line: string) => void): Promise<OutboxFigures> {
  const { databaseUrl } = runtimeConfig();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const topic = testTopicSpec(`test.bench-outbox.${randomUUID().slice(0, 8)}`, { partitions: 12 });
  await createTopics([topic]);
  const serde = new AvroSerde(registry);
  const outbox = new Outbox({ serde, topics: [topic], schemas });
  await migrate(pool, [OUTBOX_MIGRATIONS]);
  await pool.query("CREATE TABLE IF NOT EXISTS bench_orders (order_id text PRIMARY KEY, state text NOT NULL)");
  const quiet = pino({ level: "silent" });
  const transaction = async (work: (tx: pg.PoolClient) => Promise<unknown>) => {
    await inTransaction(pool, work);
  };
  const schema = schemas.get(topic.valueSchema);
  if (!schema) throw new Error(`no schema ${topic.valueSchema}`);
  const order = (i: number, run: string) => ({ id: `${run}-${i}`, event: stateEvent(`${run}-${i}`, "CREATED", 0n) });
  try {
    // The raw loop: the row, then the event, each acknowledged before the next.
    const producer = kafka.producer({ lingerMs: 0 });
    await producer.connect();
    let started = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      const { id, event } = order(i, "raw");
      await pool.query("INSERT INTO bench_orders (order_id, state) VALUES ($1, 'CREATED')", [id]);
      const value = await serde.encode(`${topic.name}-value`, schema, event);
      await producer.send([{ topic: topic.name, messages: [{ key: id, value, headers: [] }] }]);
    }
    const rawRps = EVENTS / ((performance.now() - started) / 1000);
    await producer.disconnect();
    log(`  raw insert + produce loop ${rawRps.toFixed(0)} events/s`);

    const relay = new OutboxRelay({ databaseUrl, kafka, log: quiet });
    await relay.start();
    started = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      const { id, event } = order(i, "outbox");
      await transaction(async (tx) => {
        await tx.query("INSERT INTO bench_orders (order_id, state) VALUES ($1, 'CREATED')", [id]);
        await outbox.publish(tx, topic.name, id, event);
      });
    }
    while (relay.published < EVENTS) await sleep(5);
    const outboxRps = EVENTS / ((performance.now() - started) / 1000);
    await relay.stop();
    log(`  outbox (transaction + relay) ${outboxRps.toFixed(0)} events/s (${(outboxRps / rawRps).toFixed(2)} × raw)`);

    const notified = await latency(
      outbox,
      topic.name,
      transaction,
      new OutboxRelay({ databaseUrl, kafka, log: quiet }),
    );
    log(`  commit to publish, LISTEN/NOTIFY: p50 ${notified.p50} ms, p99 ${notified.p99} ms`);
    const polling = new OutboxRelay({ databaseUrl, kafka, log: quiet, listen: false });
    const polled = await latency(outbox, topic.name, transaction, polling);
    log(`  commit to publish, polling alone: p50 ${polled.p50} ms, p99 ${polled.p99} ms`);
    return {
      outbox_events: EVENTS,
      outbox_rps: Math.round(outboxRps),
      raw_insert_produce_rps: Math.round(rawRps),
      outbox_p50_ms: notified.p50,
      outbox_p99_ms: notified.p99,
      outbox_poll_p50_ms: polled.p50,
      outbox_poll_p99_ms: polled.p99,
      ratios: { outbox_vs_raw: Number((outboxRps / rawRps).toFixed(2)) },
    };
  } finally {
    await pool.query("DELETE FROM sluice_outbox WHERE topic = $1", [topic.name]).catch(() => {});
    await pool.query("DROP TABLE IF EXISTS bench_orders").catch(() => {});
    await pool.end();
    await dropTopics([topic]).catch(() => {});
  }
}

/** Events 20ms apart through the outbox; each one's time from COMMIT returning to a consumer having it. */
async function latency(
  outbox: Outbox,
  topic: string,
  transaction: (work: (tx: pg.PoolClient) => Promise<unknown>) => Promise<void>,
  relay: OutboxRelay,
): Promise<{ p50: number; p99: number }> {
  const receivedAt = new Map<string, number>();
  const consumer = kafka.consumer({
    groupId: `bench-outbox-${randomUUID()}`,
    autoCommit: false,
    readCommitted: true,
  });
  await consumer.connect();
  await consumer.subscribe([topic]);
  void consumer.run({
    partitionsAtOnce: 12,
    eachBatch: async (batch, control) => {
      const now = Date.now();
      for (const record of batch.records) receivedAt.set(textHeaders(record.headers)[HEADER.eventId] ?? "", now);
      const last = batch.records.at(-1);
      if (last) control.resolveOffset(last.offset);
    },
  });
  await relay.start();
  const send = async (id: string) => {
    let eventId = "";
    await transaction(async (tx) => {
      eventId = await outbox.publish(tx, topic, id, stateEvent(id, "CREATED", 0n));
    });
    return { eventId, committedAt: Date.now() };
  };
  // Timing starts once the consumer has its partitions: when a first event reaches it.
  const warmup = await send(`warmup-${randomUUID()}`);
  let deadline = Date.now() + 60_000;
  while (!receivedAt.has(warmup.eventId) && Date.now() < deadline) await sleep(50);
  deadline = Date.now() + 60_000;
  const sent: { eventId: string; committedAt: number }[] = [];
  for (let i = 0; i < LATENCY_EVENTS; i++) {
    sent.push(await send(`latency-${randomUUID()}`));
    await sleep(20);
  }
  while (sent.some((e) => !receivedAt.has(e.eventId)) && Date.now() < deadline) await sleep(50);
  await relay.stop();
  await consumer.disconnect();
  const latencies = sent.map((e) => (receivedAt.get(e.eventId) ?? Number.NaN) - e.committedAt).sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
