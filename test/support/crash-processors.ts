/**
 * Processors for the crash and rebalance tests, loaded by `sluice run --module`. Topic names come from the
 * environment, because each test run makes its own topics.
 *   crash-relay   exactly-once: every record of CRASH_IN becomes one record on CRASH_OUT (state moved on).
 *   crash-effects at-least-once: every record of CRASH_IN writes one side-effect row, through ctx.once.
 *   crash-effects-redis  the same with the Redis ledger: each record's event id pushed on a Redis list.
 */
import { HEADER, multiOf, type Processor, transactionOf } from "../../runtime/index.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { states, testTopicSpec } from "./topics.ts";

const { defineProcessor } = states;

/** The topics of one test run: the tests create them, `sluice run --module` reads them from the environment. */
export function crashTopics(input: string, output: string): BusinessTopic[] {
  return [testTopicSpec(input, { partitions: 12 }), testTopicSpec(output, { partitions: 12 })];
}

export function crashProcessors(input: string, output: string): Processor[] {
  return [
    defineProcessor({
      name: "crash-relay",
      group: `crash-relay-${input}`,
      input,
      outputs: [output],
      delivery: "exactly-once",
      retryTiers: ["1s"],
      keyConcurrency: 32,
      async handler(record, ctx) {
        await ctx.send(output, record.key, { ...record.value, state: "PAID" });
      },
    }),
    defineProcessor({
      name: "crash-effects",
      group: `crash-effects-${input}`,
      input,
      retryTiers: ["1s"],
      keyConcurrency: 32,
      ledger: "postgres",
      async handler(record, ctx) {
        const eventId = record.headers[HEADER.eventId] ?? "";
        await ctx.once(`effect:${eventId}`, async (scope) => {
          await transactionOf(scope).query("INSERT INTO test_side_effects (run, event_id) VALUES ($1, $2)", [
            input,
            eventId,
          ]);
        });
      },
    }),
    defineProcessor({
      name: "crash-effects-redis",
      group: `crash-effects-redis-${input}`,
      input,
      retryTiers: ["1s"],
      keyConcurrency: 32,
      ledger: "redis",
      async handler(record, ctx) {
        const eventId = record.headers[HEADER.eventId] ?? "";
        await ctx.once(`effect:${eventId}`, async (scope) => {
          multiOf(scope).rpush(redisEffectsKey(input), eventId);
        });
      },
    }),
  ];
}

/** The Redis list crash-effects-redis pushes each event id on. */
export const redisEffectsKey = (input: string) => `test:effects:${input}`;

const input = process.env.CRASH_IN ?? "";
const output = process.env.CRASH_OUT ?? "";
export const topics = crashTopics(input, output);
export const processors = crashProcessors(input, output);
