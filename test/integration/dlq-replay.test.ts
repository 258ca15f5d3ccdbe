/**
 * DLQ replay on the real stack (ops/dlq/dlq.ts, `sluice dlq replay`): poison records and a handler bug fill a
 * group's DLQ; once the bug is fixed, a dry run counts what would move, and the replay moves only what the filter
 * picks, at the asked rate, into the group's own first retry tier: processed once, never seen again by another
 * group. A record that still fails comes back with its replay count up, and past the cap is parked. Each replay
 * leaves an audit record.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_REPLAY_CAP,
  DLQ_MIGRATIONS,
  type DlqDeps,
  parkingTopic,
  readDlq,
  replayDlq,
} from "../../ops/dlq/dlq.ts";
import {
  AvroSerde,
  HEADER,
  migrate,
  PermanentError,
  routeOf,
  runtimeConfig,
  type SinkRecord,
  sinksFor,
} from "../../runtime/index.ts";
import { TOPICS } from "../../topics/catalog.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { consumeUntil, kafka, produceRaw } from "../support/kafka.ts";
import {
  dropTopics,
  eventually,
  produceStates,
  registry,
  type StateEvent,
  schemas,
  startRunner,
  startSinkRunner,
  states,
  testTopic,
} from "../support/runtime.ts";

const db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl });
const runners: { stop(): Promise<void> }[] = [];
const topics: BusinessTopic[] = [];
let input: BusinessTopic;
let output: BusinessTopic;
let deps: DlqDeps;
let buggy = true;
const seenByOther = new Map<string, number>();
const group = `replay-${randomUUID().slice(0, 8)}`;

const event = (orderId: string, state: StateEvent["state"]): StateEvent => ({ orderId, state, changedAt: 1n });
const paid = Array.from({ length: 40 }, (_, i) => `o-paid-${i}`);

beforeAll(async () => {
  await migrate(db, [DLQ_MIGRATIONS]);
  input = await testTopic("replay-in", { partitions: 3 });
  output = await testTopic("replay-out", { partitions: 3 });
  topics.push(input, output);
  const processor = states.defineProcessor({
    name: group,
    input: input.name,
    outputs: [output.name],
    retryTiers: ["1s"],
    async handler(record, ctx) {
      // The bug: PAID orders fail for good. The stubborn one fails whatever the fix.
      if (record.key === "o-stubborn" || (buggy && record.value.state === "PAID")) {
        throw new PermanentError(`cannot handle ${record.key}`, "BUG");
      }
      await ctx.send(output.name, record.key, record.value);
    },
  });
  const other = states.defineProcessor({
    name: `${group}-other`,
    input: input.name,
    async handler(record) {
      seenByOther.set(record.key, (seenByOther.get(record.key) ?? 0) + 1);
    },
  });
  runners.push(await startRunner(processor, [input, output]), await startRunner(other, [input, output]));
  deps = {
    kafka,
    serde: new AvroSerde(registry),
    db,
    routes: [routeOf(processor)],
    topics: [...TOPICS, input, output],
    schemas,
  };
}, 120_000);

afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop()));
  await dropTopics(topics);
  await db.end();
});

describe("dlq replay", () => {
  it("moves only what its filter picks, at its rate, to the group alone, which processes each once", async () => {
    await produceStates(input, [...paid.map((id) => event(id, "PAID")), event("o-created", "CREATED")]);
    const eventId = (): [string, Buffer][] => [[HEADER.eventId, Buffer.from(randomUUID())]];
    await produceRaw(input.name, [
      { key: "poison-json", value: Buffer.from('{"orderId":"x"}'), headers: eventId() },
      { key: "poison-bytes", value: Buffer.from([0, 1, 2]), headers: eventId() },
    ]);
    expect(await eventually(async () => (await readDlq(deps, { group })).length === 42, 60_000)).toBe(true);
    expect(await eventually(() => seenByOther.size === 41, 30_000)).toBe(true); // the poison never reaches a handler

    buggy = false; // the fix is deployed
    const dry = await replayDlq(deps, { group }, { dryRun: true, rate: 20, cap: DEFAULT_REPLAY_CAP, operator: "test" });
    expect(dry).toEqual({ matched: 42, replayed: 40, parked: 0, invalid: 2 });
    expect(await readDlq(deps, { group })).toHaveLength(42); // a dry run moves nothing

    const moved = await replayDlq(
      deps,
      { group, errorClass: "BUG" },
      { dryRun: false, rate: 20, cap: 3, operator: "test" },
    );
    expect(moved).toEqual({ matched: 40, replayed: 40, parked: 0, invalid: 0 });
    // Into the group's first tier, 40 records at 20/s, two at once: the first to the last (40 − 2) / 20 = 1.9 s apart.
    const copies = await consumeUntil(deps.routes[0]?.tierTopics[0] as string, (rs) => rs.length >= 40, 10_000);
    const times = copies.map((r) => r.timestamp);
    const spread = (Math.max(...times) - Math.min(...times)) / 1000;
    console.log(`dlq replay: 40 records at 20/s went out over ${spread.toFixed(2)} s`);
    expect(spread).toBeGreaterThan(1.9 * 0.8);
    expect(spread).toBeLessThan(1.9 * 1.2);

    const out = await consumeUntil(
      output.name,
      (rs) => paid.every((id) => rs.some((r) => r.key === id)),
      30_000,
      2_000,
    );
    for (const id of paid) expect(out.filter((r) => r.key === id)).toHaveLength(1);
    expect([...seenByOther.values()].every((n) => n === 1)).toBe(true); // the other group saw none again
    const left = await readDlq(deps, { group });
    expect(left.map((r) => r.errorClass).sort()).toEqual(["BAD_MAGIC_BYTE", "TRUNCATED"]);

    const audits = await consumeUntil("sluice.audit", (rs) => rs.length > 0, 10_000, 1_000);
    const decoded = await Promise.all(audits.map(async (r) => (await deps.serde.decode(r.value as Buffer)).value));
    expect(decoded).toContainEqual(
      expect.objectContaining({
        action: "dlq-replay",
        operator: "test",
        filter: expect.objectContaining({ group, errorClass: "BUG", rate: "20" }),
        counts: expect.objectContaining({ replayed: 40n }),
      }),
    );
  }, 180_000);

  it("sends back a record that still fails with its replay count up, and parks it past the cap", async () => {
    await produceStates(input, [event("o-stubborn", "CREATED")]);
    const stubborn = async () => (await readDlq(deps, { group, key: "o-stubborn" }))[0];
    expect(await eventually(async () => (await stubborn()) !== undefined, 30_000)).toBe(true);
    for (const count of [1, 2]) {
      await replayDlq(deps, { group, key: "o-stubborn" }, { dryRun: false, rate: 100, cap: 2, operator: "test" });
      expect(await eventually(async () => (await stubborn())?.replayCount === count, 30_000)).toBe(true);
    }
    const parked = await replayDlq(
      deps,
      { group, key: "o-stubborn" },
      { dryRun: false, rate: 100, cap: 2, operator: "test" },
    );
    expect(parked).toMatchObject({ matched: 1, replayed: 0, parked: 1 });
    expect(await stubborn()).toBeUndefined();
    const dlq = routeOf(states.defineProcessor({ name: group, input: input.name, handler: async () => {} })).dlqTopic;
    const inPark = await consumeUntil(parkingTopic(dlq), (rs) => rs.length > 0, 10_000);
    expect(inPark.map((r) => [r.key, r.headers[HEADER.replayCount]])).toEqual([["o-stubborn", "2"]]);
    await dropTopics([{ ...input, name: parkingTopic(dlq) }]);
  }, 120_000);

  it("replays a sink's records into its input for the sink alone, which writes each once", async () => {
    const { defineSink } = sinksFor<Record<string, StateEvent>>();
    let rejecting = true;
    const written: string[] = [];
    const sink = defineSink({
      name: `${group}-sink`,
      input: input.name,
      async write(records: SinkRecord<StateEvent>[]) {
        const failures = records.flatMap((r, index) =>
          rejecting && r.key.startsWith("o-sink-bad")
            ? [{ index, error: new PermanentError(`mapping of ${r.key}`, "mapper_parsing_exception") }]
            : [],
        );
        for (const r of records) if (!failures.some((f) => records[f.index] === r)) written.push(r.key);
        return { failures };
      },
    });
    runners.push(await startSinkRunner(sink, [input, output]));
    const sinkDeps = { ...deps, routes: [routeOf(sink)] };
    // The sink reads the input from its start: the earlier tests' poison is in its DLQ too, and stays there.
    const mapping = { errorClass: "mapper_parsing_exception" };
    const keys = ["o-sink-bad-1", "o-sink-bad-2", "o-sink-good"];
    await produceStates(
      input,
      keys.map((k) => event(k, "CREATED")),
    );
    expect(await eventually(async () => (await readDlq(sinkDeps, mapping)).length === 2, 30_000)).toBe(true);
    expect(await eventually(() => keys.every((k) => seenByOther.get(k) === 1), 30_000)).toBe(true);

    rejecting = false; // the mapping is fixed
    const moved = await replayDlq(sinkDeps, mapping, { dryRun: false, rate: 100, cap: 3, operator: "test" });
    expect(moved).toEqual({ matched: 2, replayed: 2, parked: 0, invalid: 0 });
    expect(await eventually(() => written.filter((k) => k.startsWith("o-sink-bad")).length === 2, 30_000)).toBe(true);
    // Back in the input, on the partitions they came from, marked for the sink alone.
    const copies = await consumeUntil(input.name, (rs) => rs.filter((r) => r.headers[HEADER.replayGroup]).length >= 2);
    for (const copy of copies.filter((r) => r.headers[HEADER.replayGroup])) {
      expect(copy.headers[HEADER.replayGroup]).toBe(sink.name);
      expect(String(copy.partition)).toBe(copy.headers[HEADER.originalPartition]);
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // room for the other groups to (wrongly) see them
    expect(written.filter((k) => keys.includes(k)).sort()).toEqual([...keys].sort()); // each written once
    expect(keys.map((k) => seenByOther.get(k))).toEqual([1, 1, 1]); // the other group skipped the copies
    // The processor on the same input skipped them too: each of its outputs once.
    const out = await consumeUntil(output.name, (rs) => keys.every((k) => rs.some((r) => r.key === k)), 10_000, 1_000);
    expect(keys.map((k) => out.filter((r) => r.key === k).length)).toEqual([1, 1, 1]);
  }, 120_000);
});
