import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DelayRouter, Metrics, type ProcessorRunner } from "../../runtime/index.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { consumeUntil } from "../support/kafka.ts";
import { dropTopics, produceStates, startDelayRouter, startRunner, states, testTopic } from "../support/runtime.ts";

/** Delays chosen to cross every path: the 0s tier, one hop, a cascade, and a remainder under a second. */
const DELAYS_MS = [150, 700, 1_000, 1_600, 2_300, 11_400];

describe("ctx.schedule through the delay tiers", () => {
  let source: BusinessTopic;
  let target: BusinessTopic;
  let runner: ProcessorRunner;
  let router: DelayRouter;
  const metrics = new Metrics();

  beforeAll(async () => {
    source = await testTopic("delay-source");
    target = await testTopic("delay-target");
    const definition = states.defineProcessor({
      name: "scheduler",
      group: "g",
      input: source.name,
      outputs: [target.name],
      delivery: "exactly-once",
      async handler(record, ctx) {
        for (const delay of DELAYS_MS) {
          const value = { ...record.value, orderId: `${record.value.orderId}+${delay}` };
          await ctx.schedule(target.name, value.orderId, value, { delay });
        }
      },
    });
    runner = await startRunner(definition, [source, target]);
    router = await startDelayRouter(metrics);
  });

  afterAll(async () => {
    await runner.stop();
    await router.stop();
    await dropTopics([source, target]);
  });

  it("never delivers before the due time, and measures how late it delivers", async () => {
    await produceStates(source, [{ orderId: "o-1", state: "CREATED", changedAt: 1n }]);
    const delivered = await consumeUntil(target.name, (rs) => rs.length >= DELAYS_MS.length, 40_000);
    expect(delivered.map((r) => r.key).sort()).toEqual(DELAYS_MS.map((d) => `o-1+${d}`).sort());
    const lateness = delivered.map((r) => {
      const due = Number(r.headers["due-at"]?.toString());
      const deliveredAt = Number(r.headers["produced-at"]?.toString());
      expect(due).toBeGreaterThan(0);
      return { key: r.key, lateMs: Number(r.timestamp) - due, deliveredAt };
    });
    console.log("delay lateness (ms):", lateness.map((l) => `${l.key}: ${l.lateMs}`).join(", "));
    for (const l of lateness) expect(l.lateMs, l.key ?? "").toBeGreaterThanOrEqual(0);
    // Far under a tier: a record that waited a whole extra tier (1s or more) would show here.
    expect(Math.max(...lateness.map((l) => l.lateMs))).toBeLessThan(1_000);
    const histogram = await metrics.delayLateness.get();
    expect(histogram.values.find((v) => v.metricName === "sluice_delay_lateness_seconds_count")?.value).toBe(
      DELAYS_MS.length,
    );
    // Scheduled records go through the tiers; none sits on the target before its time.
    expect(delivered.every((r) => r.headers["delay-target-topic"] === undefined)).toBe(true);
  });
});
