/**
 * Lag from the broker's offsets (`sluice lag`): a caught-up group's is near 0, a stopped group's grows with the
 * wall clock, and a retry tier's counts from its records' due time.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { groupLag } from "../../ops/lag/lag.ts";
import { HEADER, routeOf } from "../../runtime/index.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { kafka, produceRaw } from "../support/kafka.ts";
import {
  dropTopics,
  eventually,
  produceStates,
  type StateEvent,
  startRunner,
  states,
  testTopic,
} from "../support/runtime.ts";

const topics: BusinessTopic[] = [];
afterAll(() => dropTopics(topics));

const events = (n: number, from = 0): StateEvent[] =>
  Array.from({ length: n }, (_, i) => ({ orderId: `o-${from + i}`, state: "CREATED", changedAt: BigInt(from + i) }));

describe("lag", () => {
  it("is near 0 for a caught-up group, grows with wall time for a stopped one, and counts a tier from due time", async () => {
    const input = await testTopic("lag", { partitions: 2 });
    topics.push(input);
    let handled = 0;
    const processor = states.defineProcessor({
      name: `lag-${input.name.slice(-8)}`,
      input: input.name,
      retryTiers: ["1m"],
      async handler() {
        handled++;
      },
    });
    const route = routeOf(processor);
    const runner = await startRunner(processor, [input]);
    await produceStates(input, events(20));
    expect(await eventually(() => handled === 20)).toBe(true);
    const inputLag = async () => (await groupLag(kafka, [route])).filter((l) => l.kind === "input");
    expect(
      await eventually(async () => (await inputLag()).every((l) => l.records === 0 && l.seconds === 0), 15_000),
    ).toBe(true);

    await runner.stop();
    await produceStates(input, events(10, 20));
    const first = await inputLag();
    await sleep(3_000);
    const later = await inputLag();
    expect(first.reduce((sum, l) => sum + l.records, 0)).toBe(10);
    expect(later.reduce((sum, l) => sum + l.records, 0)).toBe(10);
    const oldest = (lags: typeof first) => Math.max(...lags.map((l) => l.seconds));
    console.log(`lag of a stopped group: ${oldest(first).toFixed(1)} s, then ${oldest(later).toFixed(1)} s 3 s later`);
    expect(oldest(later) - oldest(first)).toBeGreaterThan(2.5);

    // The tier: one record due 30 s ago, on partition 0; one not due for a minute, on partition 1.
    const tier = route.tierTopics[0] as string;
    const due = (at: number): [string, Buffer][] => [[HEADER.dueAt, Buffer.from(String(at))]];
    await produceRaw(tier, [
      { key: "late", value: Buffer.from("x"), headers: due(Date.now() - 30_000), partition: 0 },
      { key: "early", value: Buffer.from("x"), headers: due(Date.now() + 60_000), partition: 1 },
    ]);
    const tiers = (await groupLag(kafka, [route])).filter((l) => l.kind === "tier");
    expect(tiers.map((l) => l.records)).toEqual([1, 1]);
    expect(tiers[0]?.seconds).toBeGreaterThan(29);
    expect(tiers[0]?.seconds).toBeLessThan(40);
    expect(tiers[1]?.seconds).toBe(0);
  }, 120_000);
});
