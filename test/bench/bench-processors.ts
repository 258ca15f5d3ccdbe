/**
 * The benchmark's processors, loaded by `sluice run --module`. Topic names come from BENCH_ID.
 *   bench-alo / bench-eos  Avro in → handler → Avro out, at-least-once / exactly-once
 *   bench-failing          as bench-alo, but 1% of keys always fail (non-blocking: they go to the retry tiers)
 *   bench-scheduler        schedules each record of the schedule topic to the delayed topic, due at its createdAt
 */
import { type Processor, processorsFor, RetryableError } from "../../runtime/index.ts";
import type { OrderCreated } from "../../schemas/types.generated.ts";
import { testTopicSpec } from "../support/topics.ts";

/** Rounds of the throughput runs: each round's processors consume the input afresh, in a group of their own. */
export const BENCH_ROUNDS = 2;

const { defineProcessor } = processorsFor<Record<string, OrderCreated>>();

export function benchTopics(id: string) {
  const names = {
    input: `bench.${id}.in`,
    output: `bench.${id}.out`,
    schedule: `bench.${id}.schedule`,
    delayed: `bench.${id}.delayed`,
  };
  // As the producer sent them (uncompressed): kafkajs, the baseline, reads no lz4 or zstd without plugins.
  const topic = (name: string) =>
    testTopicSpec(name, { partitions: 12, valueSchema: "sluice.orders.OrderCreated", compression: "producer" });
  return { names, topics: [topic(names.input), topic(names.output), topic(names.schedule), topic(names.delayed)] };
}

/**
 * 1% of keys, the same in every run (`bench-order-<n>` with n a multiple of 100), told apart at almost no cost:
 * the failing run should measure the runtime's failure path, not the test's choice of keys.
 */
export const isFailingKey = (key: string) => Number(key.slice(key.lastIndexOf("-") + 1)) % 100 === 0;

/** The bench's processors of run `id`, round `round`: each round's groups are new, so each reads the input afresh. */
export function benchProcessors(id: string, round: string | number): Processor[] {
  const { names } = benchTopics(id);
  const relay = (name: string, delivery: "at-least-once" | "exactly-once", failing: boolean) =>
    defineProcessor({
      name,
      group: `${name}-${id}-${round}`,
      input: names.input,
      outputs: [names.output],
      delivery,
      retryTiers: ["10m"],
      keyConcurrency: 64,
      async handler(record, ctx) {
        if (failing && isFailingKey(record.key)) throw new RetryableError("this key always fails");
        const order = record.value;
        const total = order.items.reduce((sum, item) => sum + BigInt(item.quantity) * item.unitPriceCents, 0n);
        await ctx.send(names.output, record.key, { ...order, totalCents: total });
      },
    });
  return [
    relay("bench-alo", "at-least-once", false),
    relay("bench-eos", "exactly-once", false),
    relay("bench-failing", "at-least-once", true),
    defineProcessor({
      name: "bench-scheduler",
      group: `bench-scheduler-${id}-${round}`,
      input: names.schedule,
      outputs: [names.delayed],
      retryTiers: ["10m"],
      keyConcurrency: 64,
      async handler(record, ctx) {
        // The driver puts the wanted due time in createdAt.
        await ctx.schedule(names.delayed, record.key, record.value, { at: Number(record.value.createdAt) });
      },
    }),
  ];
}

const id = process.env.BENCH_ID ?? "none";
export const topics = benchTopics(id).topics;
export const processors = benchProcessors(id, process.env.BENCH_ROUND ?? "0");
