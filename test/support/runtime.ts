/**
 * Runs real ProcessorRunners in the test process against the real stack, on throwaway topics declared like
 * catalog topics, so a test controls its handler (when it fails, what it records) and nothing else shares them.
 */
import { randomUUID } from "node:crypto";
import pino from "pino";
import { applyTopics } from "../../ops/topics/apply-topics.ts";
import {
  AvroSerde,
  CatalogProducer,
  DelayRouter,
  type Ledger,
  Metrics,
  type Processor,
  ProcessorRunner,
  type Producer,
  type RuntimeDeps,
  routeOf,
  runtimeConfig,
  type SentRecord,
  type Sink,
  SinkRunner,
  systemClock,
  topicPlan,
} from "../../runtime/index.ts";
import { SchemaRegistryClient } from "../../schemas/registry-client.ts";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";
import { valueSubject } from "../../schemas/subjects.ts";
import type { TopicName, TopicValues } from "../../schemas/types.generated.ts";
import { TOPICS } from "../../topics/catalog.ts";
import { type BusinessTopic, planGroupTopics, topicByName } from "../../topics/topic.ts";
import { deleteTopics, kafka } from "./kafka.ts";
import { testTopicSpec } from "./topics.ts";

const config = runtimeConfig();
export const schemas = loadSchemaFiles();
export const registry = new SchemaRegistryClient(config.schemaRegistryUrl);

import type { StateEvent } from "./topics.ts";

export { type StateEvent, states } from "./topics.ts";

/**
 * A topic of OrderStateChanged values keyed by orderId (or `valueSchema`'s keyed by `key`), created on the cluster
 * with its schema registered.
 */
export async function testTopic(
  prefix: string,
  options: { partitions?: number; valueSchema?: string; key?: string } = {},
): Promise<BusinessTopic> {
  const topic = testTopicSpec(`test.${prefix}.${randomUUID().slice(0, 8)}`, options);
  await createTopics([topic]);
  return topic;
}

/** Creates `topics`, the retry tiers and DLQs of `processors`' routes, and registers the topics' schemas. */
export async function createTopics(topics: BusinessTopic[], processors: readonly Processor[] = []): Promise<void> {
  await applyTopics(kafka, topicPlan(topics, processors, 1), { dryRun: false });
  for (const topic of topics) await registry.register(valueSubject(topic.name), schemaOf(topic).text);
}

/** Deletes the topics, the retry tiers and DLQs derived from them, and their subjects. */
export async function dropTopics(topics: BusinessTopic[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const existing = await admin.listTopics().finally(() => admin.disconnect());
  const names = existing.filter((name) => topics.some((t) => name === t.name || name.startsWith(`${t.name}.`)));
  if (names.length) await deleteTopics(names);
  for (const t of topics) await registry.deleteSubject(valueSubject(t.name)).catch(() => {});
}

/** Produces OrderStateChanged values (keyed by orderId) with standard headers; returns their event ids. */
export async function produceStates(topic: BusinessTopic, events: readonly StateEvent[], partition?: number) {
  const sent = await withProducer((producer) =>
    new CatalogProducer<Record<string, StateEvent>>({
      producer,
      serde: new AvroSerde(registry),
      topics: [topic],
      schemas,
    }).send(topic.name, events, partition === undefined ? {} : { partition }),
  );
  return sent.map((s) => s.eventId);
}

/** Produces values to a topic of the reference catalog, as its services would. */
export function produceToCatalog<T extends TopicName>(
  topic: T,
  values: readonly TopicValues[T][],
): Promise<SentRecord[]> {
  return withProducer((producer) =>
    new CatalogProducer<TopicValues>({ producer, serde: new AvroSerde(registry), topics: TOPICS, schemas }).send(
      topic,
      values,
    ),
  );
}

/** Users the confirmation email can find: ACTIVE, `<id>@example.com`, version 1, on users.status. */
export function produceUsers(userIds: readonly string[]): Promise<SentRecord[]> {
  return produceToCatalog(
    "users.status",
    userIds.map((userId) => ({
      userId,
      status: "ACTIVE" as const,
      email: `${userId}@example.com`,
      updatedAt: 1n,
      version: 1n,
    })),
  );
}

async function withProducer<R>(use: (producer: Producer) => Promise<R>): Promise<R> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    return await use(producer);
  } finally {
    await producer.disconnect();
  }
}

/**
 * Produces `count` Avro records to `topic` in sends of 10,000, each with standard headers; `value(i)` gives the
 * i-th value. Returns the mean encoded value size in bytes.
 */
export async function produceMany<V extends object>(
  topic: BusinessTopic,
  count: number,
  value: (i: number) => V,
): Promise<number> {
  const producer = kafka.producer({ lingerMs: 20 });
  await producer.connect();
  const serde = new AvroSerde(registry);
  const catalog = new CatalogProducer<Record<string, V>>({ producer, serde, topics: [topic], schemas });
  let bytes = 0;
  try {
    for (let start = 0; start < count; start += 10_000) {
      const values = Array.from({ length: Math.min(10_000, count - start) }, (_, j) => value(start + j));
      for (const sent of await catalog.send(topic.name, values)) bytes += sent.valueBytes;
    }
  } finally {
    await producer.disconnect();
  }
  return bytes / count;
}

const quiet = pino({ level: process.env.SLUICE_TEST_LOG_LEVEL || "silent" });

interface RunnerExtras {
  ledger?: Ledger;
  metrics?: Metrics;
  maxValueBytes?: number;
  maxPollIntervalMs?: number;
  /** The same id as a stopped runner's: its restart, taking its partitions back at once. */
  instanceId?: string;
}

/** Creates the retry tiers and DLQ of `definition`'s route, then starts a runner for it; stop it with `.stop()`. */
export async function startRunner(
  definition: Processor,
  topics: readonly BusinessTopic[],
  extra: RunnerExtras = {},
): Promise<ProcessorRunner> {
  const runner = new ProcessorRunner(definition, await runnerDeps(definition, topics, extra));
  await runner.start();
  return runner;
}

/** Creates the DLQ of `sink`'s route, then starts a sink runner for it; stop it with `.stop()`. */
export async function startSinkRunner(
  sink: Sink,
  topics: readonly BusinessTopic[],
  extra: RunnerExtras = {},
): Promise<SinkRunner> {
  const runner = new SinkRunner(sink, await runnerDeps(sink, topics, extra));
  await runner.start();
  return runner;
}

async function runnerDeps(
  definition: Processor | Sink,
  topics: readonly BusinessTopic[],
  extra: RunnerExtras,
): Promise<RuntimeDeps> {
  const route = routeOf(definition);
  const input = topicByName(route.input, topics);
  if (input) await applyTopics(kafka, planGroupTopics(input, route.group, route.tiers, 1), { dryRun: false });
  return {
    kafka,
    serde: new AvroSerde(registry),
    topics,
    schemas,
    ledger: extra.ledger,
    clock: systemClock,
    log: quiet,
    metrics: extra.metrics ?? new Metrics(),
    instanceId: extra.instanceId ?? randomUUID(),
    maxPollIntervalMs: extra.maxPollIntervalMs ?? config.maxPollIntervalMs,
    sessionTimeoutMs: config.sessionTimeoutMs,
    stallAfterMs: config.stallAfterMs,
    maxValueBytes: extra.maxValueBytes,
  };
}

export async function startDelayRouter(metrics: Metrics) {
  const router = new DelayRouter({ kafka, clock: systemClock, metrics, log: quiet, stallAfterMs: config.stallAfterMs });
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

function schemaOf(topic: BusinessTopic) {
  const schema = schemas.get(topic.valueSchema);
  if (!schema) throw new Error(`no schema file defines ${topic.valueSchema}`);
  return schema;
}
