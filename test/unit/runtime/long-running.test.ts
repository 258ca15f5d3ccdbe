import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { type Processor, routeOf } from "../../../runtime/index.ts";
import { handlerTimeoutMs } from "../../../runtime/runner/handler-call.ts";
import { partitionOf, TestDriver } from "../../../runtime/testing/index.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import { type StateEvent, stateEvent, states, testTopicSpec } from "../../support/topics.ts";

const definition = (extra: object): Processor => ({
  ...states.defineProcessor({ name: "p", input: "t", handler: async () => {} }),
  ...extra,
});

describe("long-running processors", () => {
  it("are bounded by their own handler timeout, not by max.poll.interval.ms (an hour unless told)", () => {
    const maxPoll = 30_000;
    expect(handlerTimeoutMs(definition({ longRunning: true }), maxPoll)).toBe(3_600_000);
    expect(handlerTimeoutMs(definition({ longRunning: true, handlerTimeout: "10m" }), maxPoll)).toBe(600_000);
    expect(() => handlerTimeoutMs(definition({ handlerTimeout: "10m" }), maxPoll)).toThrow(/a quarter/);
  });

  it("retry non-blocking only: a blocking or key-ordered one is a configuration error", () => {
    expect(routeOf(definition({ longRunning: true })).longRunning).toBe(true);
    expect(() => routeOf(definition({ longRunning: true, retry: "blocking" }))).toThrow(/non-blocking only/);
    expect(() => routeOf(definition({ longRunning: true, retry: "key-ordered" }))).toThrow(/non-blocking only/);
    expect(routeOf(definition({})).longRunning).toBe(false);
  });

  /** Six jobs over three partitions on the driver; how many ran at once at most, and what they wrote. */
  async function jobs(jobsAtOnce?: number) {
    const topics = [testTopicSpec("videos", { partitions: 3 }), testTopicSpec("done", { partitions: 3 })];
    let running = 0;
    let most = 0;
    const processor = states.defineProcessor({
      name: "transcoder",
      input: "videos",
      outputs: ["done"],
      longRunning: true,
      ...(jobsAtOnce ? { jobsAtOnce } : {}),
      async handler(record, ctx) {
        most = Math.max(most, ++running);
        await sleep(20); // real time: the driver waits for jobs under way
        running--;
        await ctx.send("done", record.key, record.value);
      },
    });
    const driver = await TestDriver.start<Record<string, StateEvent>>({
      topics,
      schemas: loadSchemaFiles(),
      processors: [processor],
    });
    // One video on partition 0, four on 1, one on 2: a partition that has nothing left when a place frees must not
    // keep the others waiting.
    const ids: string[] = [];
    const wanted = [1, 4, 1];
    for (let n = 0; ids.length < 6; n++) {
      const id = `video-${n}`;
      const partition = partitionOf(Buffer.from(id), 3);
      if (ids.filter((other) => partitionOf(Buffer.from(other), 3) === partition).length < (wanted[partition] ?? 0)) {
        ids.push(id);
      }
    }
    await driver.pipeAll(
      "videos",
      ids.map((id, i) => ({ key: id, value: stateEvent(id, "CREATED", BigInt(i)) })),
    );
    const done = (await driver.read("done")).map((r) => r.key).sort();
    await driver.stop();
    return { most, done, ids: ids.sort() };
  }

  it("run at most jobsAtOnce at a time, the other partitions waiting their turn, each job once", async () => {
    const limited = await jobs(1);
    expect(limited.done).toEqual(limited.ids);
    expect(limited.most).toBe(1);
    const unlimited = await jobs();
    expect(unlimited.done).toEqual(unlimited.ids);
    expect(unlimited.most).toBeGreaterThan(1);
  });
});
