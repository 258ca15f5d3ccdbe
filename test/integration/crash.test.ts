/**
 * Crash safety: a 100,000-record pipeline survives ten SIGKILLs of the processor process at random moments.
 * Exactly-once: the read_committed output holds each input exactly once. At-least-once with ctx.once: exactly
 * one side-effect row per event.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeConfig } from "../../runtime/index.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { crashProcessors, crashTopics } from "../support/crash-processors.ts";
import { consumeUntil } from "../support/kafka.ts";
import { createTopics, dropTopics, eventually, produceMany, type StateEvent } from "../support/runtime.ts";
import { killStrays, startSluiceRun } from "../support/sluice-run.ts";

const RECORDS = 100_000;
const KILLS = 10;
const MODULE = "test/support/crash-processors.ts";

describe("crash safety under SIGKILL", () => {
  const id = randomUUID().slice(0, 8);
  // One instance id for every life: each restart takes over its predecessor's partitions and transactions.
  const env = { CRASH_IN: `test.crash.${id}.in`, CRASH_OUT: `test.crash.${id}.out`, SLUICE_INSTANCE_ID: `crash-${id}` };
  let db: pg.Pool;
  const topics: BusinessTopic[] = crashTopics(env.CRASH_IN, env.CRASH_OUT);

  beforeAll(async () => {
    await createTopics(topics, crashProcessors(env.CRASH_IN, env.CRASH_OUT));
    db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl });
    await db.query("CREATE TABLE IF NOT EXISTS test_side_effects (run text NOT NULL, event_id text NOT NULL)");
    const [input] = topics as [BusinessTopic];
    await produceMany<StateEvent>(input, RECORDS, (i) => ({
      orderId: `c-${i}`,
      state: "CREATED",
      changedAt: BigInt(i),
    }));
  }, 300_000);

  afterAll(async () => {
    await killStrays();
    await db?.query("DELETE FROM test_side_effects WHERE run = $1", [env.CRASH_IN]);
    await db?.end();
    await dropTopics(topics);
  });

  it(`loses and duplicates nothing through ${KILLS} kills`, async () => {
    const processors = ["crash-relay", "crash-effects", "--module", MODULE];
    const effects = async () =>
      Number((await db.query("SELECT count(*) AS n FROM test_side_effects WHERE run = $1", [env.CRASH_IN])).rows[0]?.n);
    const atKill: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const host = startSluiceRun(processors, env);
      await host.ready();
      // A random moment while it works through the backlog: once this life has made progress.
      const before = await effects();
      await eventually(async () => (await effects()) > before, 30_000);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 1_500));
      await host.kill();
      atKill.push(await effects());
    }
    console.log(`side-effect rows at each of the ${KILLS} kills: ${atKill.join(", ")}`);
    // The kills landed mid-stream, not all before or after the work.
    expect(atKill.filter((n) => n > 0 && n < RECORDS).length).toBeGreaterThanOrEqual(KILLS / 2);
    const survivor = startSluiceRun(processors, env);
    await survivor.ready();
    expect(await eventually(async () => (await effects()) >= RECORDS, 240_000)).toBe(true);
    const output = await consumeUntil(env.CRASH_OUT, (rs) => rs.length >= RECORDS, 240_000, 3_000);
    expect(await survivor.stop()).toBe(0);

    const keys = new Set(output.map((r) => r.key));
    expect(output.length).toBe(RECORDS);
    expect(keys.size).toBe(RECORDS);
    const rows = await db.query<{ n: string; distinct_events: string }>(
      "SELECT count(*) AS n, count(DISTINCT event_id) AS distinct_events FROM test_side_effects WHERE run = $1",
      [env.CRASH_IN],
    );
    expect(Number(rows.rows[0]?.n)).toBe(RECORDS);
    expect(Number(rows.rows[0]?.distinct_events)).toBe(RECORDS);
  }, 600_000);
});
