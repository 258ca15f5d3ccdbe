/**
 * The shared scenarios on the real broker, in real time: the outcome must equal the driver's
 * (test/unit/driver.test.ts runs the same table on the in-memory Kafka). The driver must not drift from Kafka.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { AvroSerde, type DelayRouter, Metrics, type ProcessorRunner } from "../../runtime/index.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { consumeUntil, kafka, produceRaw } from "../support/kafka.ts";
import {
  createTopics,
  dropTopics,
  produceStates,
  registry,
  startDelayRouter,
  startRunner,
} from "../support/runtime.ts";
import { type Harness, type Observed, SCENARIOS } from "../support/scenarios.ts";
import type { StateEvent } from "../support/topics.ts";

const serde = new AvroSerde(registry);

describe("the shared scenarios on the real broker", () => {
  const created: BusinessTopic[] = [];
  const runners: ProcessorRunner[] = [];
  let router: DelayRouter | undefined;

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await router?.stop();
    await dropTopics(created);
  });

  for (const scenario of SCENARIOS) {
    it(`gives the driver's outcome: ${scenario.name}`, async () => {
      const prefix = `test.parity.${randomUUID().slice(0, 8)}`;
      const topics = scenario.topics(prefix);
      created.push(...topics);
      const processors = scenario.processors(prefix);
      await createTopics(topics, processors);
      for (const processor of processors) runners.push(await startRunner(processor, topics));
      router ??= await startDelayRouter(new Metrics());
      const byName = new Map(topics.map((t) => [t.name, t]));
      const admin = kafka.admin();
      await admin.connect();
      const harness: Harness = {
        pipe: async (topic, events) => void (await produceStates(byName.get(topic) as BusinessTopic, events)),
        pipeRaw: (topic, record) => produceRaw(topic, [record]),
        pass: (ms) => sleep(ms),
        read: async (topic, count) => {
          const records = await consumeUntil(
            topic,
            (rs) => count > 0 && rs.length >= count,
            count > 0 ? 30_000 : 2_000,
            500,
          );
          return Promise.all(
            records.map(async (r): Promise<Observed> => {
              const decoded = r.value && (await serde.decode<StateEvent>(r.value).catch(() => undefined));
              return { key: r.key, value: decoded?.value, headers: r.headers, timestamp: r.timestamp };
            }),
          );
        },
        setMaxMessageBytes: (topic, bytes) => admin.setTopicConfig(topic, "max.message.bytes", String(bytes)),
      };
      try {
        expect(await scenario.run(harness, prefix)).toEqual(scenario.expected);
      } finally {
        await admin.disconnect();
      }
    }, 120_000);
  }
});
