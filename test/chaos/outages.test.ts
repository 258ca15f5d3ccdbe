/**
 * Outages of the stack's parts under traffic, each against `sluice run` as it runs in production: the broker under
 * an exactly-once pipeline, PostgreSQL under the ctx.once ledger, Redis under the Redis ledger, and the schema
 * registry under a pipeline whose records mostly carry schema ids it has cached. Traffic keeps coming (100 records
 * a second, from an idempotent producer); afterwards the read_committed output or the side effects are checked
 * exactly: each record once, none lost, none in a retry tier or the DLQ, and the time to recover is measured.
 *
 * `npm run test:chaos` holds each outage as long as the issue says (the broker 30 s, the others 60 s);
 * SLUICE_OUTAGE_SECONDS caps them (ops/test.sh, and so CI, runs them at 10 s). The figures are printed and appended
 * to .sluice/artifacts/outages.jsonl.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFileSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kafkaComponent } from "../../ops/stack/components/kafka.ts";
import { postgresCluster } from "../../ops/stack/components/machine-services.ts";
import { registryComponent } from "../../ops/stack/components/registry.ts";
import { stackUp } from "../../ops/stack/stack.ts";
import { AvroSerde, CatalogProducer, HEADER, type Producer, runtimeConfig } from "../../runtime/index.ts";
import { avroType } from "../../schemas/avro-type.ts";
import { valueSubject } from "../../schemas/subjects.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { crashProcessors, crashTopics, redisEffectsKey } from "../support/crash-processors.ts";
import { kafka, produceRaw, type RawRecord } from "../support/kafka.ts";
import { createTopics, dropTopics, eventually, registry, type StateEvent, schemas } from "../support/runtime.ts";
import { killStrays, startSluiceRun } from "../support/sluice-run.ts";

const MODULE = "test/support/crash-processors.ts";
const CAP_S = Number(process.env.SLUICE_OUTAGE_SECONDS) || Number.POSITIVE_INFINITY;
const outageMs = (fullSeconds: number) => Math.min(fullSeconds, CAP_S) * 1_000;
const RATE = 100; // records a second: 10 every 100 ms

const config = runtimeConfig();
const db = new pg.Pool({ connectionString: config.databaseUrl });
db.on("error", () => {}); // this pool's idle clients see PostgreSQL go, too
const created: BusinessTopic[] = [];

beforeAll(async () => {
  await db.query("CREATE TABLE IF NOT EXISTS test_side_effects (run text NOT NULL, event_id text NOT NULL)");
});

afterAll(async () => {
  await killStrays();
  await dropTopics(created);
  await db.end();
});

interface Sent {
  orderId: string;
  eventId: string;
  at: number;
}

/** 10 records every 100 ms to `topic` (a broker outage holds them in the producer); stop() ends it, all acknowledged. */
function traffic(topic: BusinessTopic, prefix: string) {
  const producer: Producer = kafka.producer();
  const events = new CatalogProducer<Record<string, StateEvent>>({
    producer,
    serde: new AvroSerde(registry),
    topics: [topic],
    schemas,
  });
  const sent: Sent[] = [];
  const sends: Promise<unknown>[] = [];
  let running = true;
  const done = (async () => {
    await producer.connect();
    for (let n = 0; running; n += 10) {
      const next = sleep(1_000 / (RATE / 10));
      const values = Array.from({ length: 10 }, (_, i) => ({
        orderId: `${prefix}-${n + i}`,
        state: "CREATED" as const,
        changedAt: BigInt(n + i),
      }));
      const eventIds = values.map(() => randomUUID());
      // Not awaited: while the broker is away the records wait in the producer, as a service's would.
      sends.push(events.send(topic.name, values, { eventIds }));
      const at = Date.now();
      values.forEach((v, i) => {
        sent.push({ orderId: v.orderId, eventId: eventIds[i] as string, at });
      });
      await next;
    }
    await Promise.all(sends);
    await producer.disconnect();
  })();
  return {
    sent,
    async stop(): Promise<Sent[]> {
      running = false;
      await done;
      return sent;
    },
  };
}

/**
 * A read_committed consumer that keeps what `topic` gets, from its start, each record once: after a long broker
 * outage its own group session expires and it reads the topic again from the start (it commits nothing).
 */
async function collect(topic: string) {
  const byOffset = new Map<string, RawRecord>();
  const consumer = kafka.consumer({ groupId: `sluice-test-${randomUUID()}`, autoCommit: false, readCommitted: true });
  await consumer.connect();
  await consumer.subscribe([topic]);
  await consumer.run({
    partitionsAtOnce: 4,
    eachBatch: async (batch, control) => {
      for (const r of batch.records) {
        const record = { ...r, key: r.key?.toString() ?? null, headers: {}, headerList: r.headers };
        byOffset.set(`${r.partition}/${r.offset}`, record);
      }
      control.resolveOffset(batch.records.at(-1)?.offset ?? "0");
    },
  });
  return { records: () => [...byOffset.values()], stop: () => consumer.disconnect() };
}

interface OutageCase {
  name: string;
  processors: string[];
  fullSeconds: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** What was handled so far, by the id that `sent` records carry (orderId or eventId); undefined if unreadable. */
  handled(): Promise<string[] | undefined>;
  idOf(sent: Sent): string;
  /** Whether records are still handled while the part is down (the registry: cached schema ids). */
  flowsDuring?: boolean;
  /** While the part is down. */
  during?(topics: { input: string; output: string }): Promise<string[]>;
}

/** Runs one outage and checks the outcome exactly; returns the figures. */
async function underOutage(c: OutageCase, ids: Fresh) {
  const host = startSluiceRun([...c.processors, "--module", MODULE], {
    CRASH_IN: ids.input,
    CRASH_OUT: ids.output,
    SLUICE_INSTANCE_ID: `outage-${ids.id}`,
  });
  await host.ready();
  const load = traffic(ids.topic, c.name);
  expect(await eventually(async () => ((await c.handled()) ?? []).length > 0, 60_000)).toBe(true);

  await c.stop();
  const downAt = Date.now();
  const handledAtDown = ((await c.handled()) ?? []).length;
  const extra = (await c.during?.(ids)) ?? [];
  await sleep(Math.max(0, outageMs(c.fullSeconds) - (Date.now() - downAt)));
  const handledDuring = ((await c.handled()) ?? []).length - handledAtDown;
  if (c.flowsDuring) expect(handledDuring).toBeGreaterThan(0);
  await c.start();
  const upAt = Date.now();
  await sleep(3_000);
  const sent = await load.stop();
  const before = sent.filter((s) => s.at < upAt).map(c.idOf);
  let recoveredAt = 0;
  const want = [...sent.map(c.idOf), ...extra];
  const all = await eventually(async () => {
    const handled = new Set((await c.handled()) ?? []);
    if (!recoveredAt && before.every((id) => handled.has(id))) recoveredAt = Date.now();
    return want.every((id) => handled.has(id));
  }, 180_000);
  expect(all).toBe(true);
  await sleep(2_000); // room for a duplicate to show
  const handled = (await c.handled()) ?? [];
  expect(await host.stop()).toBe(0);

  const counts = new Map<string, number>();
  for (const id of handled) counts.set(id, (counts.get(id) ?? 0) + 1);
  const duplicates = [...counts.values()].filter((n) => n > 1).length;
  const lost = want.filter((id) => !counts.has(id)).length;
  const figures = {
    outage: c.name,
    outageSeconds: Math.round((upAt - downAt) / 1000),
    recordsIn: want.length,
    recordsOut: handled.length,
    handledDuringOutage: handledDuring,
    duplicates,
    lost,
    recoverSeconds: Number(((recoveredAt - upAt) / 1000).toFixed(1)),
  };
  console.log(`outage figures: ${JSON.stringify(figures)}`);
  mkdirSync(".sluice/artifacts", { recursive: true });
  appendFileSync(
    ".sluice/artifacts/outages.jsonl",
    `${JSON.stringify({ at: new Date().toISOString(), ...figures })}\n`,
  );
  expect(lost).toBe(0);
  expect(duplicates).toBe(0);
  expect(handled.length).toBe(want.length);
  await expectNothingRetried(ids.input);
}

/** Nothing went to a retry tier or a DLQ: the records waited in place. */
async function expectNothingRetried(input: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const derived = (await admin.listTopics()).filter((t) => t.startsWith(`${input}.`));
    expect(derived.length).toBeGreaterThan(0);
    for (const topic of derived) {
      const records = (await admin.topicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
      expect({ topic, records }).toEqual({ topic, records: 0 });
    }
  } finally {
    await admin.disconnect();
  }
}

interface Fresh {
  input: string;
  output: string;
  id: string;
  topic: BusinessTopic;
}

async function freshTopics(name: string): Promise<Fresh> {
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  const input = `test.outage.${id}.in`;
  const output = `test.outage.${id}.out`;
  const topics = crashTopics(input, output);
  await createTopics(topics, crashProcessors(input, output));
  created.push(...topics);
  return { input, output, id, topic: topics[0] as BusinessTopic };
}

describe("outages under traffic", () => {
  it("the broker, 30 s, under an exactly-once pipeline: no loss, no duplicate, resumes by itself", async () => {
    const ids = await freshTopics("broker");
    const output = await collect(ids.output);
    await underOutage(
      {
        name: "broker",
        processors: ["crash-relay"],
        fullSeconds: 30,
        stop: async () => {
          expect(await kafkaComponent().stop()).toBe(true);
        },
        start: () => stackUp([kafkaComponent()]),
        handled: async () => output.records().map((r) => r.key as string),
        idOf: (s) => s.orderId,
      },
      ids,
    );
    await output.stop();
  }, 600_000);

  it("PostgreSQL, 60 s, under the ctx.once ledger: records wait, nothing lost or doubled, the pool recovers", async () => {
    const ids = await freshTopics("postgres");
    const cluster = postgresCluster();
    const pgctl = (action: string) =>
      execFileSync("pg_ctlcluster", [
        "--skip-systemctl-redirect",
        cluster,
        "main",
        action,
        ...(action === "stop" ? ["-m", "fast"] : []),
      ]);
    await underOutage(
      {
        name: "postgres",
        processors: ["crash-effects"],
        fullSeconds: 60,
        stop: async () => {
          pgctl("stop");
        },
        start: async () => {
          pgctl("start");
          expect(
            await eventually(
              () =>
                db.query("SELECT 1").then(
                  () => true,
                  () => false,
                ),
              30_000,
            ),
          ).toBe(true);
        },
        handled: async () =>
          db
            .query<{ event_id: string }>("SELECT event_id FROM test_side_effects WHERE run = $1", [ids.input])
            .then((r) => r.rows.map((row) => row.event_id))
            .catch(() => undefined),
        idOf: (s) => s.eventId,
      },
      ids,
    );
  }, 600_000);

  it("Redis, 60 s, under the Redis ledger: records wait, nothing lost or doubled", async () => {
    const ids = await freshTopics("redis");
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => 500 });
    redis.on("error", () => {});
    // Redis keeps nothing on disk here: it is restarted with its data, as a server with persistence is. Where it
    // saves is its own setting (protected from CONFIG SET); the file goes once it is loaded again.
    const [, dir] = (await redis.config("GET", "dir")) as [string, string];
    const [, file] = (await redis.config("GET", "dbfilename")) as [string, string];
    await underOutage(
      {
        name: "redis",
        processors: ["crash-effects-redis"],
        fullSeconds: 60,
        stop: async () => {
          execFileSync("redis-cli", ["-u", config.redisUrl, "shutdown", "save"]);
        },
        start: async () => {
          execFileSync("redis-server", [
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            dir,
            "--dbfilename",
            file,
          ]);
          expect(
            await eventually(
              () =>
                redis.ping().then(
                  () => true,
                  () => false,
                ),
              15_000,
            ),
          ).toBe(true);
          rmSync(path.join(dir, file), { force: true });
        },
        handled: async () => redis.lrange(redisEffectsKey(ids.input), 0, -1).catch(() => undefined),
        idOf: (s) => s.eventId,
      },
      ids,
    );
    await redis.del(redisEffectsKey(ids.input));
    redis.disconnect();
  }, 600_000);

  it("the schema registry, 60 s: cached schema ids keep flowing; a new one waits and is never DLQ'd as unknown", async () => {
    const ids = await freshTopics("registry");
    const output = await collect(ids.output);
    // A second version of the input's schema, registered now but not yet seen by the processor.
    const base = JSON.parse(schemas.get("sluice.orders.OrderStateChanged")?.text ?? "{}");
    const evolved = { ...base, fields: [...base.fields, { name: "note", type: ["null", "string"], default: null }] };
    const writer = { text: JSON.stringify(evolved), type: avroType(evolved) };
    const serde = new AvroSerde(registry, { autoRegister: true });
    const newer = await serde.encode(valueSubject(ids.input), writer, {
      orderId: "registry-new-schema",
      state: "CREATED",
      changedAt: 1n,
      note: "written with a schema id the processor has not seen",
    });
    await underOutage(
      {
        name: "registry",
        processors: ["crash-relay"],
        flowsDuring: true,
        fullSeconds: 60,
        stop: async () => {
          expect(await registryComponent().stop()).toBe(true);
        },
        start: () => stackUp([registryComponent()]),
        handled: async () => output.records().map((r) => r.key as string),
        idOf: (s) => s.orderId,
        during: async ({ input }) => {
          await produceRaw(input, [
            { key: "registry-new-schema", value: newer, headers: [[HEADER.eventId, Buffer.from(randomUUID())]] },
          ]);
          return ["registry-new-schema"];
        },
      },
      ids,
    );
    await output.stop();
  }, 600_000);
});
