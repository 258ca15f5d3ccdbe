/**
 * Processors for the crash and rebalance tests, loaded by `sluice run --module`. Topic names come from the
 * environment, because each test run makes its own topics.
 *   crash-relay   exactly-once: every record of CRASH_IN becomes one record on CRASH_OUT (state moved on).
 *   crash-effects at-least-once: every record of CRASH_IN writes one side-effect row, through ctx.once.
 */
import { HEADER } from "../../processors/runtime/headers.ts";
import type { InputRecord, ProcessorDefinition } from "../../processors/runtime/processor.ts";
import type { BusinessTopic } from "../../topics/topic.ts";

const input = process.env.CRASH_IN ?? "";
const output = process.env.CRASH_OUT ?? "";

const stateTopic = (name: string, groups: string[]): BusinessTopic => ({
  name,
  partitions: 12,
  replicationFactor: 1,
  key: "orderId",
  valueSchema: "sluice.orders.OrderStateChanged",
  compatibility: "BACKWARD",
  cleanupPolicy: "delete",
  retention: "1d",
  compression: "lz4",
  consumers: groups.map((group) => ({ group, retryTiers: ["1s"] })),
});

/** The topics of one test run: the tests create them, `sluice run --module` reads them from the environment. */
export function crashTopics(inputTopic: string, outputTopic: string): BusinessTopic[] {
  return [
    stateTopic(inputTopic, [`crash-relay-${inputTopic}`, `crash-effects-${inputTopic}`]),
    stateTopic(outputTopic, []),
  ];
}

export const topics = crashTopics(input, output);

interface State {
  orderId: string;
  state: string;
  changedAt: bigint;
}

export const processors: ProcessorDefinition<never>[] = [
  {
    name: "crash-relay",
    group: `crash-relay-${input}`,
    input: input as never,
    outputs: [output as never],
    delivery: "exactly-once",
    retry: "non-blocking",
    keyConcurrency: 32,
    async handler(record: InputRecord<State>, ctx) {
      await ctx.send(output as never, record.key, { ...record.value, state: "PAID" } as never);
    },
  },
  {
    name: "crash-effects",
    group: `crash-effects-${input}`,
    input: input as never,
    outputs: [],
    delivery: "at-least-once",
    retry: "non-blocking",
    keyConcurrency: 32,
    ledger: "postgres",
    async handler(record: InputRecord<State>, ctx) {
      const eventId = record.headers[HEADER.eventId] ?? "";
      await ctx.once(`effect:${eventId}`, async ({ db }) => {
        await db?.query("INSERT INTO test_side_effects (run, event_id) VALUES ($1, $2)", [input, eventId]);
      });
    },
  },
];
