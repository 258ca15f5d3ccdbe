/**
 * Slow and hanging handlers on a consumer with a short max.poll.interval.ms (6 s; librdkafka evicts at twice
 * that): no batch may keep the member from polling, a hanging handler's record retries, and nothing is lost,
 * duplicated or reordered while batches are cut short and read again.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { AvroSerde, Metrics, type ProcessorRunner, RetryableError } from "../../runtime/index.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { consumeUntil, type RawRecord } from "../support/kafka.ts";
import {
  dropTopics,
  produceStates,
  registry,
  type StateEvent,
  startRunner,
  states,
  testTopic,
} from "../support/runtime.ts";

const MAX_POLL_INTERVAL_MS = 6_000;
const SLOW_MS = 300;

async function revocations(metrics: Metrics): Promise<number> {
  const { values } = await metrics.rebalances.get();
  return values.filter((v) => v.labels.event === "revoked").reduce((sum, v) => sum + v.value, 0);
}

/** The output's changedAt sequence per key, in the order it was committed. */
async function sequences(records: RawRecord[]): Promise<Map<string, bigint[]>> {
  const serde = new AvroSerde(registry);
  const byKey = new Map<string, bigint[]>();
  for (const r of records) {
    const { value } = await serde.decode(r.value as Buffer);
    const list = byKey.get(r.key ?? "") ?? [];
    list.push((value as StateEvent).changedAt);
    byKey.set(r.key ?? "", list);
  }
  return byKey;
}

describe("long handlers never get the member evicted", () => {
  const topics: BusinessTopic[] = [];
  const runners: ProcessorRunner[] = [];

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await dropTopics(topics);
  });

  it("exactly-once, in partition order: a 15 s batch is cut short and a hanging handler retries", async () => {
    const input = await testTopic("long-eos");
    const output = await testTopic("long-eos-out");
    topics.push(input, output);
    const events: StateEvent[] = Array.from({ length: 50 }, (_, i) => ({
      orderId: i === 10 ? "o-hang" : `o-${i}`,
      state: "CREATED",
      changedAt: BigInt(i),
    }));
    await produceStates(input, events);

    const runs = new Map<string, number>();
    let abortedHang = false;
    const metrics = new Metrics();
    const definition = states.defineProcessor({
      name: "slow-eos",
      group: "g",
      input: input.name,
      outputs: [output.name],
      delivery: "exactly-once",
      retryTiers: ["1s"],
      keyConcurrency: 1,
      async handler(record, ctx) {
        const { orderId } = record.value;
        runs.set(orderId, (runs.get(orderId) ?? 0) + 1);
        if (orderId === "o-hang" && record.attempt === 1) {
          // Far longer than the member may go without polling; it stops when the runtime gives up on it.
          await Promise.race([
            sleep(30_000),
            new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true })),
          ]);
          abortedHang = ctx.signal.aborted;
          await ctx.send(output.name, orderId, { ...record.value, changedAt: -1n });
          return;
        }
        await sleep(SLOW_MS);
        await ctx.send(output.name, orderId, record.value);
      },
    });
    const started = Date.now();
    runners.push(await startRunner(definition, [input, output], { metrics, maxPollIntervalMs: MAX_POLL_INTERVAL_MS }));

    const committed = await consumeUntil(output.name, (rs) => rs.length >= events.length, 90_000, 2_000);
    const elapsed = Date.now() - started;
    console.log(`50 records at ${SLOW_MS} ms each plus a hanging one: all committed after ${elapsed} ms`);
    expect(await revocations(metrics)).toBe(0);
    expect(abortedHang).toBe(true);
    const byKey = await sequences(committed);
    // Each record once; the hanging one's late output (-1) dropped, its retry's output kept.
    expect(committed.length).toBe(events.length);
    expect(byKey.get("o-hang")).toEqual([10n]);
    expect([...byKey.values()].flat().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(
      events.map((e) => e.changedAt),
    );
    const healthy = committed.filter((r) => r.key !== "o-hang").map((r) => r.key);
    expect(healthy).toEqual(events.filter((e) => e.orderId !== "o-hang").map((e) => e.orderId));
    expect(runs.get("o-hang")).toBe(2);
    expect([...runs].filter(([key, n]) => key !== "o-hang" && n !== 1)).toEqual([]);

    const retried = await consumeUntil(`${input.name}.g.retry.1s`, (rs) => rs.length >= 1, 10_000);
    expect(retried[0]?.headers["error-class"]?.toString()).toBe("HANDLER_TIMEOUT");
  }, 120_000);

  it("key-ordered with concurrent keys: records finished past an unfinished one are redone, in key order", async () => {
    const input = await testTopic("long-keys");
    const output = await testTopic("long-keys-out");
    topics.push(input, output);
    const keys = ["k0", "k1", "k2", "k3"];
    const events: StateEvent[] = Array.from({ length: 80 }, (_, i) => ({
      orderId: keys[i % keys.length] as string,
      state: "CREATED",
      changedAt: BigInt(i),
    }));
    await produceStates(input, events);

    const metrics = new Metrics();
    let handled = 0;
    const definition = states.defineProcessor({
      name: "slow-keys",
      group: "g",
      input: input.name,
      outputs: [output.name],
      retry: "key-ordered",
      retryTiers: ["1s"],
      keyConcurrency: 4,
      async handler(record, ctx) {
        handled++;
        // k1's record 9 fails once: k1's later records wait behind it in the tier, across cut batches.
        if (record.value.changedAt === 9n && record.attempt === 1) throw new RetryableError("k1 fails once");
        // k0 is slow: the others run ahead of it, past the end of the batch's committed prefix.
        await sleep(record.key === "k0" ? 3 * SLOW_MS : SLOW_MS / 2);
        await ctx.send(output.name, record.key, record.value);
      },
    });
    runners.push(await startRunner(definition, [input, output], { metrics, maxPollIntervalMs: MAX_POLL_INTERVAL_MS }));

    const committed = await consumeUntil(output.name, (rs) => rs.length >= events.length, 90_000, 2_000);
    console.log(`${events.length} records on 4 keys: handler ran ${handled} times`);
    expect(await revocations(metrics)).toBe(0);
    expect(committed.length).toBe(events.length);
    const byKey = await sequences(committed);
    for (const [k, key] of keys.entries()) {
      expect(byKey.get(key)).toEqual(events.filter((_, i) => i % keys.length === k).map((e) => e.changedAt));
    }
  }, 120_000);
});
