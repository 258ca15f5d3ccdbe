/**
 * The deterministic test driver: the unchanged runtime on an in-memory Kafka and a simulated clock. Minutes of
 * retry tiers and delays pass in milliseconds; the shared scenarios give the same outcome here as on the real
 * broker (test/integration/driver-parity.test.ts).
 */
import { describe, expect, it } from "vitest";
import { HEADER, RetryableError } from "../../runtime/index.ts";
import { partitionOf, TestDriver } from "../../runtime/testing/index.ts";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";
import { type Harness, type Observed, SCENARIOS } from "../support/scenarios.ts";
import { stateEvent as event, type StateEvent, states, testTopicSpec } from "../support/topics.ts";

const schemas = loadSchemaFiles();
const { defineProcessor } = states;

/** The harness of the shared scenarios, on the driver. */
function driverHarness(driver: TestDriver<Record<string, StateEvent>>): Harness {
  return {
    async pipe(topic, events) {
      for (const e of events) await driver.pipe(topic, e.orderId, e);
    },
    pipeRaw: (topic, record) => driver.pipeRaw(topic, record),
    pass: (ms) => driver.advance(ms),
    read: async (topic) =>
      (await driver.read(topic)).map(
        (r): Observed => ({
          key: r.key,
          value: r.value as StateEvent | undefined,
          headers: r.headers,
          timestamp: r.timestamp,
        }),
      ),
    async setMaxMessageBytes(topic, bytes) {
      await driver.kafka.admin().setTopicConfig(topic, "max.message.bytes", String(bytes));
    },
  };
}

describe("the deterministic test driver", () => {
  for (const scenario of SCENARIOS) {
    it(`shared scenario: ${scenario.name}`, async () => {
      const started = performance.now();
      const driver = await TestDriver.start<Record<string, StateEvent>>({
        topics: scenario.topics("s"),
        schemas,
        processors: scenario.processors("s"),
      });
      const outcome = await scenario.run(driverHarness(driver), "s");
      await driver.stop();
      console.log(`${scenario.name.split(":")[0]}: ${(performance.now() - started).toFixed(0)} ms of real time`);
      expect(outcome).toEqual(scenario.expected);
    });
  }

  it("takes a record failing through 5s, 1m and 10m tiers to the DLQ with every header DESIGN.md lists", async () => {
    const topics = [testTopicSpec("orders", { partitions: 3 })];
    const failing = defineProcessor({
      name: "mailer",
      input: "orders",
      async handler(record) {
        throw new RetryableError(`smtp down (attempt ${record.attempt})`);
      },
    });
    const driver = await TestDriver.start<Record<string, StateEvent>>({ topics, schemas, processors: [failing] });
    const startedAt = driver.clock.now();
    await driver.pipe("orders", "o-1", event("o-1", "CREATED"));
    const [tier5s, tier1m, tier10m] = driver.tiersOf("mailer") as [string, string, string];
    expect(await driver.read(tier5s)).toHaveLength(1);
    await driver.advance("5s");
    expect(await driver.read(tier1m)).toHaveLength(1);
    await driver.advance("1m");
    expect(await driver.read(tier10m)).toHaveLength(1);
    expect(await driver.dlq("mailer")).toEqual([]);
    await driver.advance("10m");
    const [dead] = await driver.dlq("mailer");
    await driver.stop();
    expect(dead?.value).toEqual(event("o-1", "CREATED"));
    expect(dead?.headers).toMatchObject({
      [HEADER.attempt]: "4",
      [HEADER.dueAt]: String(startedAt + 665_000),
      [HEADER.originalTopic]: "orders",
      [HEADER.originalPartition]: String(partitionOf(Buffer.from("o-1"), 3)),
      [HEADER.originalOffset]: "0",
      [HEADER.errorClass]: "RETRYABLE",
      [HEADER.errorMessage]: "smtp down (attempt 4)",
      [HEADER.firstFailedAt]: String(startedAt),
    });
    for (const name of [HEADER.eventId, HEADER.traceId, HEADER.producedAt]) expect(dead?.headers[name]).toBeTruthy();
  });

  it("keeps per-key order across a 10-minute tier while other keys flow", async () => {
    const topics = [testTopicSpec("states"), testTopicSpec("applied")];
    const processor = defineProcessor({
      name: "lifecycle",
      input: "states",
      outputs: ["applied"],
      retry: "key-ordered",
      retryTiers: ["10m"],
      async handler(record, ctx) {
        if (record.value.orderId === "o-late" && record.value.state === "CREATED" && record.attempt === 1) {
          throw new RetryableError("the order service has not caught up");
        }
        await ctx.send("applied", record.key, record.value);
      },
    });
    const driver = await TestDriver.start<Record<string, StateEvent>>({ topics, schemas, processors: [processor] });
    for (const e of [event("o-late", "CREATED"), event("o-other", "CREATED"), event("o-late", "PAID")]) {
      await driver.pipe("states", e.orderId, e);
    }
    await driver.pipe("states", "o-other", event("o-other", "PAID"));
    const applied = async () => (await driver.read("applied")).map((r) => `${r.key} ${r.value?.state}`);
    expect(await applied()).toEqual(["o-other CREATED", "o-other PAID"]);
    await driver.advance("9m");
    expect(await applied()).toEqual(["o-other CREATED", "o-other PAID"]);
    await driver.advance("1m");
    expect(await applied()).toEqual(["o-other CREATED", "o-other PAID", "o-late CREATED", "o-late PAID"]);
    await driver.stop();
  });

  it("gives handlers the broadcast configuration as it is when each record is handled", async () => {
    const topics = [testTopicSpec("states"), testTopicSpec("applied")];
    const processor = defineProcessor({
      name: "banner",
      input: "states",
      outputs: ["applied"],
      async handler(record, ctx) {
        const changedAt = BigInt(ctx.config.get("banner.version") ?? "0");
        await ctx.send("applied", record.key, { ...record.value, changedAt });
      },
    });
    const driver = await TestDriver.start<Record<string, StateEvent>>({ topics, schemas, processors: [processor] });
    await driver.pipe("states", "o-1", event("o-1", "CREATED"));
    driver.config.set("banner.version", "7");
    await driver.pipe("states", "o-1", event("o-1", "PAID"));
    const applied = await driver.read("applied");
    await driver.stop();
    expect(applied.map((r) => (r.value as StateEvent).changedAt)).toEqual([0n, 7n]);
  });

  it("places keyed records where Java's murmur2 partitioner does", () => {
    // Kafka's own test vectors (UtilsTest.testMurmur2), as partitions of a 12-partition topic.
    const vectors: [string, number][] = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      ["abc", 479470107],
    ];
    for (const [key, hash] of vectors) {
      expect(partitionOf(Buffer.from(key), 12), key).toBe((hash & 0x7fffffff) % 12);
    }
  });
});
