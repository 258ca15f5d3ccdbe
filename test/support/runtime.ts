/**
 * Runs real ProcessorRunners in the test process against the real stack, on throwaway topics declared like
 * catalog topics, so a test controls its handler (when it fails, what it records) and nothing else shares them.
 */
import { randomUUID } from "node:crypto";
import pino from "pino";
import { applyTopics } from "../../ops/cli/commands/topics.ts";
import { systemClock } from "../../processors/runtime/clock.ts";
import { DelayRouter } from "../../processors/runtime/delay-router.ts";
import { newEventHeaders } from "../../processors/runtime/headers.ts";
import { createKafka, createProducer, type Kafka } from "../../processors/runtime/kafka-client.ts";
import type { Ledger } from "../../processors/runtime/ledger/ledger.ts";
import { Metrics } from "../../processors/runtime/metrics.ts";
import type { ProcessorDefinition } from "../../processors/runtime/processor.ts";
import { ProcessorRunner } from "../../processors/runtime/runner.ts";
import { AvroSerde } from "../../processors/runtime/serde/avro-serde.ts";
import { SchemaRegistryClient } from "../../processors/runtime/serde/registry-client.ts";
import { loadSchemaFiles, type SchemaFile } from "../../schemas/schema-files.ts";
import { valueSubject } from "../../schemas/subjects.ts";
import type { OrderStateChanged } from "../../schemas/types.generated.ts";
import type { Duration } from "../../topics/duration.ts";
import { type BusinessTopic, planBusinessTopic } from "../../topics/topic.ts";
import { deleteTopics } from "./kafka.ts";

export const schemas = loadSchemaFiles();
export const registry = new SchemaRegistryClient();
const stateSchema = schemas.get("sluice.orders.OrderStateChanged")!;

/** A topic of OrderStateChanged values (or `valueSchema`'s) with one consumer group, created on the cluster. */
export async function testTopic(
  prefix: string,
  options: { partitions?: number; group?: string; retryTiers?: Duration[]; valueSchema?: string } = {},
): Promise<BusinessTopic> {
  const schema = schemas.get(options.valueSchema ?? stateSchema.fullName)!;
  const topic: BusinessTopic = {
    name: `test.${prefix}.${randomUUID().slice(0, 8)}`,
    partitions: options.partitions ?? 1,
    replicationFactor: 1,
    key: "orderId",
    valueSchema: schema.fullName,
    compatibility: "BACKWARD",
    cleanupPolicy: "delete",
    retention: "1d",
    compression: "lz4",
    consumers: [{ group: options.group ?? "g", retryTiers: options.retryTiers ?? ["1s", "2s"] }],
  };
  await applyTopics(planBusinessTopic(topic), { dryRun: false });
  await registry.register(valueSubject(topic.name), schema.text);
  return topic;
}

export async function dropTopics(topics: BusinessTopic[]): Promise<void> {
  const names = topics.flatMap((t) => planBusinessTopic(t).map((p) => p.name));
  if (names.length) await deleteTopics(names);
  for (const t of topics) await registry.deleteSubject(valueSubject(t.name)).catch(() => {});
}

export type StateEvent = OrderStateChanged;

/** Produces OrderStateChanged values (keyed by orderId) with standard headers; returns their event ids. */
export async function produceStates(topic: string, events: StateEvent[], partition?: number): Promise<string[]> {
  const serde = new AvroSerde(registry);
  const producer = createProducer(createKafka("sluice-test-states"));
  await producer.connect();
  try {
    const messages = await Promise.all(
      events.map(async (e) => ({
        key: e.orderId,
        value: await serde.encode(valueSubject(topic), stateSchema, e),
        headers: newEventHeaders(Date.now()),
        ...(partition === undefined ? {} : { partition }),
      })),
    );
    const ids = messages.map((m) => m.headers["event-id"] ?? "");
    await producer.send({ topic, messages });
    return ids;
  } finally {
    await producer.disconnect();
  }
}

const quiet = pino({ level: process.env.SLUICE_TEST_LOG_LEVEL || "silent" });

/** Starts a runner for `definition` on the given test topics; stop it with `.stop()`. */
export async function startRunner(
  definition: ProcessorDefinition<never>,
  topics: BusinessTopic[],
  extra: {
    ledger?: Ledger;
    metrics?: Metrics;
    maxValueBytes?: number;
    maxPollIntervalMs?: number;
    /** The same id as a stopped runner's: its restart, taking its partitions back at once. */
    instanceId?: string;
  } = {},
): Promise<ProcessorRunner> {
  const runner = new ProcessorRunner(definition as unknown as ProcessorDefinition, {
    kafka: createKafka(`sluice-test-${definition.name}`),
    serde: new AvroSerde(registry),
    schemas,
    ledger: extra.ledger,
    clock: systemClock,
    log: quiet,
    metrics: extra.metrics ?? new Metrics(),
    instanceId: extra.instanceId ?? randomUUID(),
    topics,
    maxValueBytes: extra.maxValueBytes,
    maxPollIntervalMs: extra.maxPollIntervalMs,
  });
  await runner.start();
  return runner;
}

export async function startDelayRouter(metrics: Metrics, kafka: Kafka = createKafka("sluice-test-router")) {
  const router = new DelayRouter(kafka, { clock: systemClock, metrics, log: quiet });
  await router.start();
  return router;
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last verdict. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

/**
 * Produces `count` Avro records to `topic` in sends of 10,000, each with standard headers; `record(i)` gives
 * the i-th key and value. Returns the mean encoded value size in bytes.
 */
export async function produceMany(
  topic: string,
  schema: SchemaFile,
  count: number,
  record: (i: number) => { key: string; value: unknown },
): Promise<number> {
  const serde = new AvroSerde(registry);
  const producer = createProducer(createKafka("sluice-test-bulk"), { "linger.ms": 20 });
  await producer.connect();
  let bytes = 0;
  try {
    for (let start = 0; start < count; start += 10_000) {
      const messages = await Promise.all(
        Array.from({ length: Math.min(10_000, count - start) }, async (_, j) => {
          const { key, value } = record(start + j);
          const encoded = await serde.encode(valueSubject(topic), schema, value);
          bytes += encoded.length;
          return { key, value: encoded, headers: newEventHeaders(Date.now()) };
        }),
      );
      await producer.send({ topic, messages });
    }
  } finally {
    await producer.disconnect();
  }
  return bytes / count;
}
