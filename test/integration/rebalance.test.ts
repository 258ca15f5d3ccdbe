/** Adding and removing a member mid-stream loses and duplicates nothing in exactly-once mode. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyTopics } from "../../ops/cli/commands/topics.ts";
import { createKafka } from "../../processors/runtime/kafka-client.ts";
import { valueSubject } from "../../schemas/subjects.ts";
import { planBusinessTopic } from "../../topics/topic.ts";
import { crashTopics } from "../support/crash-processors.ts";
import { consumeUntil, deleteTopics } from "../support/kafka.ts";
import { eventually, produceMany, registry, schemas } from "../support/runtime.ts";
import { killStrays, startSluiceRun } from "../support/sluice-run.ts";

const RECORDS = 60_000;
const MODULE = "test/support/crash-processors.ts";

describe("rebalance in exactly-once mode", () => {
  const id = randomUUID().slice(0, 8);
  const topics = { CRASH_IN: `test.rebalance.${id}.in`, CRASH_OUT: `test.rebalance.${id}.out` };
  let topicNames: string[] = [];

  beforeAll(async () => {
    const plans = crashTopics(topics.CRASH_IN, topics.CRASH_OUT).flatMap(planBusinessTopic);
    topicNames = plans.map((p) => p.name);
    await applyTopics(plans, { dryRun: false });
    const state = schemas.get("sluice.orders.OrderStateChanged")!;
    await registry.register(valueSubject(topics.CRASH_IN), state.text);
    await registry.register(valueSubject(topics.CRASH_OUT), state.text);
    await produceMany(topics.CRASH_IN, state, RECORDS, (i) => ({
      key: `r-${i}`,
      value: { orderId: `r-${i}`, state: "CREATED", changedAt: 0 },
    }));
  }, 300_000);

  afterAll(async () => {
    await killStrays();
    if (topicNames.length) await deleteTopics(topicNames);
    for (const name of topicNames) await registry.deleteSubject(valueSubject(name)).catch(() => {});
  });

  it("keeps every record exactly once while members join and leave", async () => {
    const relayed = async () => {
      const admin = createKafka("sluice-test-offsets").admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(topics.CRASH_OUT);
        return offsets.reduce((sum, p) => sum + Number(p.high), 0);
      } finally {
        await admin.disconnect();
      }
    };
    const a = startSluiceRun(["crash-relay", "--module", MODULE], { ...topics, SLUICE_INSTANCE_ID: `a-${id}` });
    await a.ready();
    expect(await eventually(async () => (await relayed()) > 0, 60_000)).toBe(true);
    // A second member joins mid-stream: the partitions are split between the two.
    const b = startSluiceRun(["crash-relay", "--module", MODULE], { ...topics, SLUICE_INSTANCE_ID: `b-${id}` });
    await b.ready();
    const atJoin = await relayed();
    expect(await eventually(async () => (await relayed()) > atJoin + 5_000, 60_000)).toBe(true);
    // The first leaves mid-stream: the second takes all partitions over.
    const atLeave = await relayed();
    expect(atLeave).toBeLessThan(RECORDS);
    expect(await a.stop()).toBe(0);

    const output = await consumeUntil(topics.CRASH_OUT, (rs) => rs.length >= RECORDS, 180_000, 3_000);
    expect(await b.stop()).toBe(0);
    console.log(`relayed at join: ${atJoin}, at leave: ${atLeave}, committed in the end: ${output.length}`);
    expect(output.length).toBe(RECORDS);
    expect(new Set(output.map((r) => r.key)).size).toBe(RECORDS);
  }, 400_000);
});
