/**
 * The benchmark's processors, loaded by `sluice run --module`. Topic names come from BENCH_ID.
 *   bench-alo / bench-eos  Avro in → handler → Avro out, at-least-once / exactly-once
 *   bench-failing          as bench-alo, but 1% of keys always fail (non-blocking: they go to the retry tiers)
 *   bench-scheduler        schedules each record of the schedule topic to the delayed topic, due at its createdAt
 */
import { RetryableError } from "../../processors/runtime/failure.ts";
import type { InputRecord, ProcessorDefinition } from "../../processors/runtime/processor.ts";
import type { OrderCreated } from "../../schemas/types.generated.ts";
import type { BusinessTopic } from "../../topics/topic.ts";

/** Rounds of the throughput runs: each round's processors consume the input afresh, in a group of their own. */
export const BENCH_ROUNDS = 2;

export function benchTopics(id: string) {
  const names = {
    input: `bench.${id}.in`,
    output: `bench.${id}.out`,
    schedule: `bench.${id}.schedule`,
    delayed: `bench.${id}.delayed`,
  };
  const topic = (name: string, groups: string[]): BusinessTopic => ({
    name,
    partitions: 12,
    replicationFactor: 1,
    key: "orderId",
    valueSchema: "sluice.orders.OrderCreated",
    compatibility: "BACKWARD",
    cleanupPolicy: "delete",
    retention: "1d",
    // As the producer sent it (uncompressed): kafkajs, the baseline, reads no lz4 or zstd without plugins.
    compression: "producer",
    consumers: groups.map((group) => ({ group, retryTiers: ["10m"] })),
  });
  return {
    names,
    topics: [
      topic(
        names.input,
        ["bench-alo", "bench-eos", "bench-failing"].flatMap((g) =>
          Array.from({ length: BENCH_ROUNDS }, (_, round) => `${g}-${id}-${round}`),
        ),
      ),
      topic(names.output, []),
      topic(names.schedule, [`bench-scheduler-${id}`]),
      topic(names.delayed, []),
    ],
  };
}

const id = process.env.BENCH_ID ?? "none";
const round = process.env.BENCH_ROUND ?? "0";
const { names, topics: declared } = benchTopics(id);
export const topics = declared;

/**
 * 1% of keys, the same in every run (`bench-order-<n>` with n a multiple of 100), told apart at almost no cost:
 * the failing run should measure the runtime's failure path, not the test's choice of keys.
 */
export const isFailingKey = (key: string) => Number(key.slice(key.lastIndexOf("-") + 1)) % 100 === 0;

const relay = (
  name: string,
  delivery: "at-least-once" | "exactly-once",
  failing: boolean,
): ProcessorDefinition<never> => ({
  name,
  group: `${name}-${id}-${round}`,
  input: names.input as never,
  outputs: [names.output as never],
  delivery,
  retry: "non-blocking",
  keyConcurrency: 64,
  async handler(record: InputRecord<OrderCreated>, ctx) {
    if (failing && isFailingKey(record.key)) throw new RetryableError("this key always fails");
    const order = record.value;
    const total = order.items.reduce((sum, item) => sum + BigInt(item.quantity) * item.unitPriceCents, 0n);
    await ctx.send(names.output as never, record.key, { ...order, totalCents: total } as never);
  },
});

export const processors: ProcessorDefinition<never>[] = [
  relay("bench-alo", "at-least-once", false),
  relay("bench-eos", "exactly-once", false),
  relay("bench-failing", "at-least-once", true),
  {
    name: "bench-scheduler",
    group: `bench-scheduler-${id}`,
    input: names.schedule as never,
    outputs: [names.delayed as never],
    delivery: "at-least-once",
    retry: "non-blocking",
    keyConcurrency: 64,
    async handler(record: InputRecord<OrderCreated>, ctx) {
      // The driver puts the wanted due time in createdAt.
      await ctx.schedule(names.delayed as never, record.key, record.value as never, {
        at: Number(record.value.createdAt),
      });
    },
  },
];
