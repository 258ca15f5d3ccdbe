import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { Metrics, type ProcessorRunner, RetryableError, type RetryPolicy } from "../../runtime/index.ts";
import type { Duration } from "../../topics/duration.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { consumeUntil } from "../support/kafka.ts";
import {
  dropTopics,
  eventually,
  produceStates,
  type StateEvent,
  startRunner,
  states,
  testTopic,
} from "../support/runtime.ts";

interface Seen {
  orderId: string;
  state: string;
  attempt: number;
  topic: string;
  partition: number;
  at: number;
}

/** A processor that records what it sees and fails `failures` times for the orders in `failing`. */
function recorder(
  topic: BusinessTopic,
  retry: RetryPolicy,
  failing: Set<string>,
  failures: number,
  seen: Seen[],
  retryTiers: Duration[] = ["1s", "2s"],
) {
  return states.defineProcessor({
    name: `recorder-${retry}`,
    group: "g",
    input: topic.name,
    retry,
    retryTiers,
    keyConcurrency: 8,
    blockingBackoff: ["1s", "1s"],
    async handler(record) {
      const { orderId, state } = record.value;
      if (failing.has(`${orderId}/${state}`) && record.attempt <= failures) {
        throw new RetryableError(`${orderId} ${state} fails on attempt ${record.attempt}`);
      }
      seen.push({
        orderId,
        state,
        attempt: record.attempt,
        topic: record.topic,
        partition: record.partition,
        at: Date.now(),
      });
    },
  });
}

const events = (orderId: string, states: StateEvent["state"][]) =>
  states.map((state, i) => ({ orderId, state, changedAt: BigInt(i) }));

describe("retry policies on the real broker", () => {
  const topics: BusinessTopic[] = [];
  const runners: ProcessorRunner[] = [];

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await dropTopics(topics);
  });

  it("non-blocking: a failing record moves through the tiers while its partition keeps flowing", async () => {
    const topic = await testTopic("nonblocking");
    topics.push(topic);
    const seen: Seen[] = [];
    runners.push(await startRunner(recorder(topic, "non-blocking", new Set(["o-bad/CREATED"]), 2, seen), [topic]));
    await produceStates(topic, [
      ...events("o-bad", ["CREATED"]),
      ...Array.from({ length: 20 }, (_, i) => events(`o-${i}`, ["CREATED"])).flat(),
    ]);
    expect(await eventually(() => seen.length === 21, 30_000)).toBe(true);
    const bad = seen.find((s) => s.orderId === "o-bad");
    // Third attempt, read from the second tier: it failed on the input topic and on the first tier.
    expect(bad).toMatchObject({ attempt: 3, topic: `${topic.name}.g.retry.2s` });
    const healthyDoneAt = Math.max(...seen.filter((s) => s.orderId !== "o-bad").map((s) => s.at));
    expect(healthyDoneAt).toBeLessThan(bad!.at - 2_000);

    const onTiers = await consumeUntil(`${topic.name}.g.retry.1s`, (rs) => rs.length >= 1, 10_000);
    expect(onTiers[0]?.headers.attempt?.toString()).toBe("2");
    expect(onTiers[0]?.headers["error-class"]?.toString()).toBe("RETRYABLE");
    expect(onTiers[0]?.headers["original-topic"]?.toString()).toBe(topic.name);
    expect(onTiers[0]?.headers["original-offset"]?.toString()).toBe("0");
  });

  it("non-blocking: a record failing on every tier lands in the DLQ with its history", async () => {
    const topic = await testTopic("todlq");
    topics.push(topic);
    const seen: Seen[] = [];
    runners.push(await startRunner(recorder(topic, "non-blocking", new Set(["o-doomed/PAID"]), 99, seen), [topic]));
    await produceStates(topic, [...events("o-doomed", ["PAID"]), ...events("o-fine", ["PAID"])]);
    const dlq = await consumeUntil(`${topic.name}.g.dlq`, (rs) => rs.length >= 1, 30_000);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.key).toBe("o-doomed");
    expect(dlq[0]?.headers.attempt?.toString()).toBe("3");
    expect(dlq[0]?.headers["error-message"]?.toString()).toBe("o-doomed PAID fails on attempt 3");
    expect(Number(dlq[0]?.headers["first-failed-at"]?.toString())).toBeGreaterThan(0);
    expect(seen.map((s) => s.orderId)).toEqual(["o-fine"]);
  });

  it("key-ordered: later states of a failing order wait behind it; other orders flow", async () => {
    const topic = await testTopic("keyordered");
    topics.push(topic);
    const seen: Seen[] = [];
    runners.push(await startRunner(recorder(topic, "key-ordered", new Set(["o-slow/CREATED"]), 2, seen), [topic]));
    await produceStates(topic, [
      ...events("o-slow", ["CREATED"]),
      ...events("o-fast", ["CREATED"]),
      ...events("o-slow", ["PAID"]),
      ...events("o-fast", ["PAID"]),
      ...events("o-slow", ["SHIPPED", "COMPLETED"]),
      ...events("o-fast", ["SHIPPED", "COMPLETED"]),
    ]);
    expect(await eventually(() => seen.length === 8, 30_000)).toBe(true);
    const statesOf = (orderId: string) => seen.filter((s) => s.orderId === orderId).map((s) => s.state);
    expect(statesOf("o-slow")).toEqual(["CREATED", "PAID", "SHIPPED", "COMPLETED"]);
    expect(statesOf("o-fast")).toEqual(["CREATED", "PAID", "SHIPPED", "COMPLETED"]);
    const fastDone = Math.max(...seen.filter((s) => s.orderId === "o-fast").map((s) => s.at));
    const slowFirst = seen.find((s) => s.orderId === "o-slow")!;
    expect(slowFirst.attempt).toBe(3);
    expect(fastDone).toBeLessThan(slowFirst.at);
  });

  it("key-ordered: after a restart, a new state of an order still waits behind its older one in the tiers", async () => {
    const topic = await testTopic("keyrestart");
    topics.push(topic);
    const seen: Seen[] = [];
    const definition = recorder(topic, "key-ordered", new Set(["o-r/CREATED"]), 2, seen, ["1s", "6s"]);
    const instanceId = randomUUID();
    const metrics = new Metrics();
    const first = await startRunner(definition, [topic], { instanceId, metrics });
    runners.push(first);
    await produceStates(topic, events("o-r", ["CREATED"]));
    // CREATED fails on the input topic and on the first tier: it now waits in the 6s tier.
    const lastTier = `${topic.name}.g.retry.6s`;
    const retriedTo = async (tier: string) =>
      (await metrics.retries.get()).values.find((v) => v.labels.topic === tier)?.value ?? 0;
    expect(await eventually(async () => (await retriedTo(lastTier)) >= 1, 20_000)).toBe(true);
    await first.stop();

    // The same member restarts (what it knew about the tiers is gone from memory), and PAID arrives.
    runners.push(await startRunner(definition, [topic], { instanceId }));
    await produceStates(topic, [{ orderId: "o-r", state: "PAID", changedAt: 1n }]);
    expect(await eventually(() => seen.length === 2, 30_000)).toBe(true);
    expect(seen.map((s) => `${s.state}@${s.attempt}`)).toEqual(["CREATED@3", "PAID@1"]);
    expect(seen[1]?.topic).toBe(lastTier); // parked behind CREATED in its tier
  });

  it("blocking: only the failing partition waits, and retries in place before moving on", async () => {
    const topic = await testTopic("blocking", { partitions: 2 });
    topics.push(topic);
    const seen: Seen[] = [];
    runners.push(await startRunner(recorder(topic, "blocking", new Set(["o-p0-stuck/CREATED"]), 2, seen), [topic]));
    await produceStates(topic, [...events("o-p0-stuck", ["CREATED"]), ...events("o-p0-next", ["CREATED"])], 0);
    await produceStates(topic, events("o-p1", ["CREATED", "PAID", "SHIPPED"]), 1);
    expect(await eventually(() => seen.length === 5, 30_000)).toBe(true);
    const order = seen.map((s) => `${s.orderId}/${s.state}`);
    // Partition 1 finished while partition 0 was blocked; partition 0 kept its order.
    expect(order.slice(0, 3)).toEqual(["o-p1/CREATED", "o-p1/PAID", "o-p1/SHIPPED"]);
    expect(order.slice(3)).toEqual(["o-p0-stuck/CREATED", "o-p0-next/CREATED"]);
    // Retried in place: read from the input topic each time, never through a tier.
    expect(seen.every((s) => s.topic === topic.name)).toBe(true);
    const stuck = seen.find((s) => s.orderId === "o-p0-stuck")!;
    expect(stuck.at - Math.max(...seen.filter((s) => s.partition === 1).map((s) => s.at))).toBeGreaterThan(1_000);
  });
});
