/**
 * The batch-sink runtime on the real broker. The external system is the test's own: it records what it was
 * written and fails when the test says, so each test checks what a connector's user relies on.
 */
import { afterEach, describe, expect, it } from "vitest";
import { HEADER, Metrics, PermanentError, type SinkRecord, type SinkRunner, sinksFor } from "../../runtime/index.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { consumeUntil, kafka, produceRaw } from "../support/kafka.ts";
import {
  dropTopics,
  eventually,
  produceStates,
  type StateEvent,
  startSinkRunner,
  testTopic,
} from "../support/runtime.ts";
import { stateEvent } from "../support/topics.ts";

const { defineSink } = sinksFor<Record<string, StateEvent>>();

let runner: SinkRunner | undefined;
const created: BusinessTopic[] = [];

afterEach(async () => {
  await runner?.stop();
  runner = undefined;
  await dropTopics(created.splice(0));
});

async function topicWith(prefix: string, partitions: number) {
  const topic = await testTopic(prefix, { partitions });
  created.push(topic);
  return topic;
}

async function committed(group: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.committedOffsets(group, [topic]);
    return offsets.reduce((sum, o) => sum + Math.max(0, Number(o.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9200"), { code: "ECONNREFUSED" });

describe("batch sink", () => {
  it("retries a failing external system for as long as it fails, paused, then writes every record", async () => {
    const topic = await topicWith("sink-down", 3);
    const ids = await produceStates(
      topic,
      Array.from({ length: 300 }, (_, i) => stateEvent(`order-${i}`, "CREATED")),
    );
    let down = true;
    let attempts = 0;
    const written = new Set<string>();
    const sink = defineSink({
      name: `sink-down-${topic.name}`,
      input: topic.name,
      async write(records: SinkRecord<StateEvent>[]) {
        attempts++;
        if (down) throw refused();
        for (const r of records) written.add(r.eventId);
        return undefined;
      },
    });
    const metrics = new Metrics();
    runner = await startSinkRunner(sink, [topic], { metrics });
    // Three seconds of an external system that refuses: each partition waits a growing, jittered backoff between
    // tries (0.25-0.5s, 0.5-1s, 1-2s, ...), so a handful of tries, not a loop; nothing is committed.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(attempts).toBeGreaterThan(0);
    expect(attempts).toBeLessThanOrEqual(3 * 5);
    expect(written.size).toBe(0);
    expect(await committed(sink.name, topic.name)).toBe(0);
    const retried = await metrics.registry.getSingleMetricAsString("sluice_sink_retries_total");
    expect(retried).toMatch(/sluice_sink_retries_total\{processor="[^"]+"\} [1-9]/);

    down = false;
    expect(await eventually(() => written.size === ids.length, 45_000)).toBe(true);
    expect([...written].sort()).toEqual([...ids].sort());
    expect(await eventually(async () => (await committed(sink.name, topic.name)) === ids.length, 15_000)).toBe(true);
  });

  it("sends what the external system rejects, and what does not decode, to the DLQ with the reason; writes the rest", async () => {
    const topic = await topicWith("sink-reject", 1);
    const ids = await produceStates(topic, [
      stateEvent("order-1", "CREATED"),
      stateEvent("order-poison", "CREATED"),
      stateEvent("order-3", "PAID"),
    ]);
    await produceRaw(topic.name, [{ key: "order-raw", value: Buffer.from('{"json":"from another team"}') }]);
    await produceStates(topic, [stateEvent("order-5", "SHIPPED")]);
    const written: string[] = [];
    const sink = defineSink({
      name: `sink-reject-${topic.name}`,
      input: topic.name,
      async write(records: SinkRecord<StateEvent>[]) {
        const failures = records.flatMap((r, index) =>
          r.value.orderId === "order-poison"
            ? [{ index, error: new PermanentError("failed to parse field [state]", "mapper_parsing_exception") }]
            : [],
        );
        for (const r of records) if (r.value.orderId !== "order-poison") written.push(r.value.orderId);
        return { failures };
      },
    });
    runner = await startSinkRunner(sink, [topic]);
    expect(await eventually(() => written.length === 3)).toBe(true);
    expect(written).toEqual(["order-1", "order-3", "order-5"]);
    const dlq = await consumeUntil(`${topic.name}.${sink.name}.dlq`, (records) => records.length >= 2, 20_000, 500);
    expect(dlq.map((r) => [r.key, r.headers[HEADER.errorClass], r.headers[HEADER.errorMessage]])).toEqual([
      ["order-poison", "mapper_parsing_exception", "failed to parse field [state]"],
      ["order-raw", "BAD_MAGIC_BYTE", expect.stringContaining("magic byte")],
    ]);
    expect(dlq[0]?.headers[HEADER.eventId]).toBe(ids[1]);
    expect(dlq[0]?.headers[HEADER.originalOffset]).toBe("1");
    expect(await eventually(async () => (await committed(sink.name, topic.name)) === 5, 15_000)).toBe(true);
  });

  it("pauses partitions while the bytes in flight pass its bound, and still writes everything", async () => {
    const topic = await topicWith("sink-pressure", 4);
    const ids = await produceStates(
      topic,
      Array.from({ length: 400 }, (_, i) => stateEvent(`order-${i}`, "CREATED")),
    );
    const written = new Set<string>();
    const bound = 1_500;
    const sink = defineSink({
      name: `sink-pressure-${topic.name}`,
      input: topic.name,
      batching: { maxRecords: 20, linger: "0ms" },
      maxInFlightBytes: bound,
      async write(records: SinkRecord<StateEvent>[]) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        for (const r of records) written.add(r.eventId);
        return undefined;
      },
    });
    const metrics = new Metrics();
    let highest = 0;
    const sampler = setInterval(async () => {
      const gauge = await metrics.sinkInFlightBytes.get();
      highest = Math.max(highest, ...gauge.values.map((v) => v.value));
    }, 5);
    try {
      runner = await startSinkRunner(sink, [topic], { metrics });
      expect(await eventually(() => written.size === ids.length, 45_000)).toBe(true);
    } finally {
      clearInterval(sampler);
    }
    expect(highest).toBeGreaterThan(0);
    expect(highest).toBeLessThanOrEqual(bound);
  });
});
