/** Adding and removing a member mid-stream loses and duplicates nothing in exactly-once mode. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BusinessTopic } from "../../topics/topic.ts";
import { crashProcessors, crashTopics } from "../support/crash-processors.ts";
import { consumeUntil, kafka } from "../support/kafka.ts";
import { createTopics, dropTopics, eventually, produceMany, type StateEvent } from "../support/runtime.ts";
import { killStrays, startSluiceRun } from "../support/sluice-run.ts";

const RECORDS = 60_000;
/** Produced before the first member starts; the rest arrives while members join and leave, so that the
 * membership changes land mid-stream however fast the relay runs. */
const PREFILLED = 12_000;
const PER_SECOND = 3_000;
const MODULE = "test/support/crash-processors.ts";

describe("rebalance in exactly-once mode", () => {
  const id = randomUUID().slice(0, 8);
  const topics = { CRASH_IN: `test.rebalance.${id}.in`, CRASH_OUT: `test.rebalance.${id}.out` };
  const declared: BusinessTopic[] = crashTopics(topics.CRASH_IN, topics.CRASH_OUT);
  const [input] = declared as [BusinessTopic];
  const produceSlice = (from: number, count: number) =>
    produceMany<StateEvent>(input, count, (i) => ({ orderId: `r-${from + i}`, state: "CREATED", changedAt: 0n }));

  beforeAll(async () => {
    await createTopics(declared, crashProcessors(topics.CRASH_IN, topics.CRASH_OUT));
    await produceSlice(0, PREFILLED);
  }, 300_000);

  afterAll(async () => {
    await killStrays();
    await dropTopics(declared);
  });

  it("keeps every record exactly once while members join and leave", async () => {
    const relayed = async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.topicOffsets(topics.CRASH_OUT);
        return offsets.reduce((sum, p) => sum + Number(p.high), 0);
      } finally {
        await admin.disconnect();
      }
    };
    const producing = (async () => {
      for (let from = PREFILLED; from < RECORDS; from += PER_SECOND) {
        const started = Date.now();
        await produceSlice(from, Math.min(PER_SECOND, RECORDS - from));
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1_000 - (Date.now() - started))));
      }
    })();
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

    await producing;
    const output = await consumeUntil(topics.CRASH_OUT, (rs) => rs.length >= RECORDS, 180_000, 3_000);
    expect(await b.stop()).toBe(0);
    console.log(`relayed at join: ${atJoin}, at leave: ${atLeave}, committed in the end: ${output.length}`);
    expect(output.length).toBe(RECORDS);
    expect(new Set(output.map((r) => r.key)).size).toBe(RECORDS);
  }, 400_000);
});
