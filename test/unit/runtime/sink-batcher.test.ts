import { describe, expect, it } from "vitest";
import { SinkBatcher } from "../../../runtime/sink/sink-batcher.ts";
import { SimulatedClock } from "../../../runtime/testing/index.ts";

type Rec = { id: number; bytes: number };
const recs = (from: number, count: number, bytes = 10): Rec[] =>
  Array.from({ length: count }, (_, i) => ({ id: from + i, bytes }));

function batcher(limits: { maxRecords?: number; maxBytes?: number; lingerMs?: number } = {}) {
  const clock = new SimulatedClock(0);
  const writes: number[][] = [];
  let fail: ((records: Rec[]) => (unknown | undefined)[] | Error) | undefined;
  const b = new SinkBatcher<Rec>(
    { maxRecords: limits.maxRecords ?? 100, maxBytes: limits.maxBytes ?? 1_000_000, lingerMs: limits.lingerMs ?? 50 },
    clock,
    async (records) => {
      writes.push(records.map((r) => r.id));
      const outcome = fail?.(records);
      if (outcome instanceof Error) throw outcome;
      return outcome ?? records.map(() => undefined);
    },
  );
  const failWith = (f: typeof fail) => {
    fail = f;
  };
  return { b, clock, writes, failWith };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("sink batcher", () => {
  it("writes once a batch holds maxRecords, without waiting for the linger", async () => {
    const { b, writes } = batcher({ maxRecords: 3 });
    const outcomes = await b.add(recs(0, 3));
    expect(writes).toEqual([[0, 1, 2]]);
    expect(outcomes).toEqual([undefined, undefined, undefined]);
  });

  it("holds a partial batch for the linger, and joins what other partitions add meanwhile", async () => {
    const { b, clock, writes } = batcher({ lingerMs: 50 });
    const first = b.add(recs(0, 2));
    clock.moveTo(30);
    clock.fireDue();
    const second = b.add(recs(10, 2));
    await tick();
    expect(writes).toEqual([]);
    clock.moveTo(50);
    clock.fireDue();
    await Promise.all([first, second]);
    expect(writes).toEqual([[0, 1, 10, 11]]);
  });

  it("starts a new batch when the next record would pass maxBytes, and splits one caller's records across both", async () => {
    const { b, clock, writes } = batcher({ maxBytes: 25, lingerMs: 10 });
    const added = b.add(recs(0, 4, 10));
    clock.moveTo(10);
    clock.fireDue();
    expect(await added).toHaveLength(4);
    expect(writes).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it("writes one batch at a time: the next fills while one is written", async () => {
    const writes: number[][] = [];
    const gate = Promise.withResolvers<void>();
    const slow = new SinkBatcher<Rec>(
      { maxRecords: 2, maxBytes: 1e6, lingerMs: 0 },
      new SimulatedClock(0),
      async (r) => {
        writes.push(r.map((x) => x.id));
        await gate.promise;
        return r.map(() => undefined);
      },
    );
    const first = slow.add(recs(0, 2));
    const second = slow.add(recs(2, 2));
    await tick();
    expect(writes).toEqual([[0, 1]]);
    gate.resolve();
    await Promise.all([first, second]);
    expect(writes).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it("hands each caller the outcomes of its own records, and a thrown write to every record of its batch", async () => {
    const { b, clock, failWith } = batcher({ lingerMs: 5 });
    failWith((records) => records.map((r) => (r.id === 11 ? "rejected" : undefined)));
    const first = b.add(recs(0, 2));
    const second = b.add(recs(10, 2));
    clock.moveTo(5);
    clock.fireDue();
    expect(await first).toEqual([undefined, undefined]);
    expect(await second).toEqual([undefined, "rejected"]);

    const down = new Error("connection refused");
    failWith(() => down);
    const third = b.add(recs(20, 2));
    clock.moveTo(10);
    clock.fireDue();
    expect(await third).toEqual([down, down]);
  });

  it("idle writes what is held without waiting for the linger", async () => {
    const { b, writes } = batcher({ lingerMs: 60_000 });
    const added = b.add(recs(0, 1));
    await b.idle();
    await added;
    expect(writes).toEqual([[0]]);
  });
});
