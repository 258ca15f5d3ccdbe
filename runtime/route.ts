/**
 * A processor's route, declared once with the processor (as Karafka's routing and Spring's @RetryableTopic keep
 * it): its group, input, outputs, delivery, retry policy, tiers and DLQ, with the defaults filled in. Every topic
 * a route implies is derived here, so `sluice topics apply` creates exactly what the registered processors use.
 */
import { type Duration, toMs } from "../topics/duration.ts";
import { ConfigError } from "../topics/errors.ts";
import {
  type BusinessTopic,
  dlqTopicName,
  planBusinessTopic,
  planDelayTier,
  planGroupTopics,
  retryTopicName,
  type TopicPlan,
  topicByName,
} from "../topics/topic.ts";
import type { DeliveryMode, Processor, RetryPolicy } from "./processor.ts";
import { isSink, type Sink } from "./sink.ts";

export const DEFAULT_RETRY_TIERS: readonly Duration[] = ["5s", "1m", "10m"];
export const DEFAULT_KEY_CONCURRENCY = 16;

/**
 * The platform's fixed-delay tiers for `ctx.schedule`: a delay cascades down through them, and the last hop waits
 * the exact remainder. Each tier's records are due in arrival order, so a consumer only ever waits for a
 * partition's head. `0s` carries delays under a second straight to the router, which waits them out itself.
 */
export const DELAY_TIERS: readonly Duration[] = ["0s", "1s", "10s", "1m", "10m", "1h"];
const DELAY_PARTITIONS = 6;

export interface Route {
  name: string;
  group: string;
  input: string;
  outputs: readonly string[];
  delivery: DeliveryMode;
  retry: RetryPolicy;
  tiers: readonly Duration[];
  tierTopics: readonly string[];
  dlqTopic: string;
  keyConcurrency: number;
  /** The blocking policy's backoff per attempt. */
  blockingBackoff: readonly Duration[];
  /** Each record a job outside the poll loop, its partition paused meanwhile (ProcessorDefinition.longRunning). */
  longRunning: boolean;
  /** Jobs one member runs at once (Infinity: one a partition). */
  jobsAtOnce: number;
}

/**
 * The route of a processor, or of a sink: a sink retries in place (its partition paused, as the blocking policy
 * does) and has no tiers, only its DLQ for what the external system rejects.
 */
export function routeOf(definition: Processor | Sink): Route {
  if (isSink(definition)) return sinkRoute(definition);
  const group = definition.group ?? definition.name;
  const tiers = definition.retryTiers ?? DEFAULT_RETRY_TIERS;
  const keyConcurrency = definition.keyConcurrency ?? DEFAULT_KEY_CONCURRENCY;
  for (const tier of [...tiers, ...(definition.blockingBackoff ?? [])]) toMs(tier);
  if (!Number.isInteger(keyConcurrency) || keyConcurrency < 1) {
    throw new ConfigError(
      `processor ${definition.name}: keyConcurrency must be a whole number from 1, got ${keyConcurrency}`,
    );
  }
  const longRunning = definition.longRunning ?? false;
  if (longRunning && (definition.retry ?? "non-blocking") !== "non-blocking") {
    throw new ConfigError(`processor ${definition.name}: a long-running processor retries non-blocking only`);
  }
  const jobsAtOnce = definition.jobsAtOnce ?? Number.POSITIVE_INFINITY;
  if (jobsAtOnce !== Number.POSITIVE_INFINITY && !(Number.isInteger(jobsAtOnce) && jobsAtOnce >= 1)) {
    throw new ConfigError(`processor ${definition.name}: jobsAtOnce must be a whole number from 1, got ${jobsAtOnce}`);
  }
  return {
    name: definition.name,
    group,
    input: definition.input,
    outputs: definition.outputs ?? [],
    delivery: definition.delivery ?? "at-least-once",
    retry: definition.retry ?? "non-blocking",
    tiers,
    tierTopics: tiers.map((tier) => retryTopicName(definition.input, group, tier)),
    dlqTopic: dlqTopicName(definition.input, group),
    keyConcurrency,
    blockingBackoff: definition.blockingBackoff ?? tiers,
    longRunning,
    jobsAtOnce,
  };
}

function sinkRoute(sink: Sink): Route {
  const group = sink.group ?? sink.name;
  return {
    name: sink.name,
    group,
    input: sink.input,
    outputs: [],
    delivery: "at-least-once",
    retry: "blocking",
    tiers: [],
    tierTopics: [],
    dlqTopic: dlqTopicName(sink.input, group),
    keyConcurrency: 1,
    blockingBackoff: [],
    longRunning: false,
    jobsAtOnce: 1,
  };
}

/**
 * The routes of `processors`, checked against the catalog: every input and output is a catalog topic, and no two
 * processors share a group on the same input (their retries would mix).
 */
export function routesOf(processors: readonly (Processor | Sink)[], topics: readonly BusinessTopic[]): Route[] {
  const routes = processors.map(routeOf);
  const seen = new Map<string, string>();
  for (const route of routes) {
    for (const topic of [route.input, ...route.outputs]) {
      if (!topicByName(topic, topics)) {
        throw new ConfigError(`processor ${route.name}: topic ${topic} is not in the catalog`);
      }
    }
    const id = `${route.input}/${route.group}`;
    const other = seen.get(id);
    if (other)
      throw new ConfigError(`processors ${other} and ${route.name} both read ${route.input} as group ${route.group}`);
    seen.set(id, route.name);
  }
  return routes;
}

/**
 * Every topic a catalog and its processors and sinks need: business topics, each route's tiers and DLQ, the delay
 * tiers.
 */
export function topicPlan(
  topics: readonly BusinessTopic[],
  processors: readonly (Processor | Sink)[],
  replicationFactor: number,
): TopicPlan[] {
  const derived = routesOf(processors, topics).flatMap((route) => {
    const input = topicByName(route.input, topics);
    return input ? planGroupTopics(input, route.group, route.tiers, replicationFactor) : [];
  });
  return [
    ...topics.map((topic) => planBusinessTopic(topic, replicationFactor)),
    ...derived,
    ...DELAY_TIERS.map((delay) => planDelayTier(delay, DELAY_PARTITIONS, replicationFactor)),
  ];
}
