/**
 * Long-running jobs on the real broker, with max.poll.interval.ms at 30 s: a job of minutes runs outside the poll
 * loop with its partition paused, the member stays in the group and the other partitions keep flowing, and the
 * job's partition commits once when it ends. A rebalance mid-job aborts it (ctx.signal) and it runs again, once
 * more, with one output. SLUICE_TEST_LONG_JOB_S sets the long job's length (default: 180, three minutes).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { Metrics, type ProcessorRunner } from "../../runtime/index.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { consumeUntil, kafka } from "../support/kafka.ts";
import { dropTopics, produceStates, type StateEvent, startRunner, states, testTopic } from "../support/runtime.ts";

const MAX_POLL_INTERVAL_MS = 30_000;
const LONG_JOB_MS = Number(process.env.SLUICE_TEST_LONG_JOB_S || 180) * 1_000;

const topics: BusinessTopic[] = [];
const runners: ProcessorRunner[] = [];

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await dropTopics(topics.splice(0));
});

async function revocations(metrics: Metrics): Promise<number> {
  const { values } = await metrics.rebalances.get();
  return values.filter((v) => v.labels.event === "revoked").reduce((sum, v) => sum + v.value, 0);
}

async function committedOffsets(group: string, topic: string): Promise<Map<number, string>> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.committedOffsets(group, [topic]).finally(() => admin.disconnect());
  return new Map(offsets.map((o) => [o.partition, o.offset]));
}

/** A processor whose record keyed `job` takes `jobMs` (until aborted); every other record is done at once. */
function jobProcessor(input: BusinessTopic, output: BusinessTopic, jobMs: number) {
  const runs = { started: 0, aborted: 0, finished: 0 };
  const definition = states.defineProcessor({
    name: "long-job",
    group: `lrj-${input.name}`,
    input: input.name,
    outputs: [output.name],
    delivery: "exactly-once",
    retryTiers: ["1s"],
    longRunning: true,
    async handler(record, ctx) {
      if (record.key === "job") {
        runs.started++;
        try {
          await sleep(jobMs, undefined, { signal: ctx.signal });
        } catch (error) {
          runs.aborted++;
          throw error;
        }
        runs.finished++;
      }
      await ctx.send(output.name, record.key, record.value);
    },
  });
  return { definition, runs };
}

const event = (orderId: string, changedAt: number): StateEvent => ({
  orderId,
  state: "CREATED",
  changedAt: BigInt(changedAt),
});

describe("long-running jobs", () => {
  it(
    `runs a ${LONG_JOB_MS / 1000} s job with max.poll.interval.ms at 30 s: no eviction, the other partitions flow, one commit`,
    async () => {
      const input = await testTopic("lrj", { partitions: 3 });
      const output = await testTopic("lrj-out", { partitions: 3 });
      topics.push(input, output);
      const { definition, runs } = jobProcessor(input, output, LONG_JOB_MS);
      const metrics = new Metrics();
      const started = Date.now();
      runners.push(
        await startRunner(definition, [input, output], { metrics, maxPollIntervalMs: MAX_POLL_INTERVAL_MS }),
      );
      await produceStates(input, [event("job", 0)], 0);
      // A record behind the job in its partition waits for it; the other partitions' records do not.
      await produceStates(input, [event("after-job", 1)], 0);
      expect(await eventually(() => runs.started === 1)).toBe(true);

      for (let round = 0; round * 30_000 < LONG_JOB_MS - 40_000; round++) {
        const others = Array.from({ length: 10 }, (_, i) => event(`other-${round}-${i}`, 100 + i));
        await produceStates(input, others.slice(0, 5), 1);
        await produceStates(input, others.slice(5), 2);
        const out = await consumeUntil(
          output.name,
          (rs) => others.every((o) => rs.some((r) => r.key === o.orderId)),
          20_000,
        );
        expect(others.filter((o) => !out.some((r) => r.key === o.orderId))).toEqual([]);
        expect(out.some((r) => r.key === "job" || r.key === "after-job")).toBe(false); // the job is still running
        await sleep(Math.max(0, 30_000 - 20_000));
      }

      const all = await consumeUntil(
        output.name,
        (rs) => rs.some((r) => r.key === "after-job"),
        LONG_JOB_MS + 60_000,
        2_000,
      );
      console.log(
        `long-running job: done and committed after ${Date.now() - started} ms; runs ${JSON.stringify(runs)}`,
      );
      expect(all.filter((r) => r.key === "job")).toHaveLength(1);
      expect(all.filter((r) => r.key === "after-job")).toHaveLength(1);
      expect(all.findIndex((r) => r.key === "job")).toBeLessThan(all.findIndex((r) => r.key === "after-job"));
      expect(runs).toEqual({ started: 1, aborted: 0, finished: 1 });
      expect(await revocations(metrics)).toBe(0);
      expect((await committedOffsets(definition.group as string, input.name)).get(0)).toBe("2");
    },
    LONG_JOB_MS + 180_000,
  );

  it("aborts a job when a rebalance takes its partition, and runs it again once, with one output", async () => {
    const input = await testTopic("lrj-rebalance", { partitions: 2 });
    const output = await testTopic("lrj-rebalance-out", { partitions: 2 });
    topics.push(input, output);
    const { definition, runs } = jobProcessor(input, output, 20_000);
    const metrics = new Metrics();
    runners.push(await startRunner(definition, [input, output], { metrics, maxPollIntervalMs: MAX_POLL_INTERVAL_MS }));
    await produceStates(input, [event("job", 0)], 0);
    expect(await eventually(() => runs.started === 1)).toBe(true);
    await sleep(3_000);
    // A second member joins: the partitions are revoked and shared out again, the job's with them.
    runners.push(await startRunner(definition, [input, output], { maxPollIntervalMs: MAX_POLL_INTERVAL_MS }));
    expect(await eventually(() => runs.aborted === 1, 30_000)).toBe(true);
    const out = await consumeUntil(output.name, (rs) => rs.some((r) => r.key === "job"), 90_000, 3_000);
    expect(out.filter((r) => r.key === "job")).toHaveLength(1);
    expect(runs).toEqual({ started: 2, aborted: 1, finished: 1 });
    expect(await revocations(metrics)).toBeGreaterThan(0);
  }, 180_000);
});

async function eventually(check: () => boolean, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !check()) await sleep(100);
  return check();
}
