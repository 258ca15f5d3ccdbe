/**
 * The shape of a topic catalog, and how topics are named and laid out on a cluster. A business topic declares its
 * key, value schema and storage. Retries belong to a consumer group, never to the topic: each processor's route
 * derives its group's `<topic>.<group>.retry.<delay>` tiers and `<topic>.<group>.dlq` (runtime/route.ts).
 */
import { type Duration, toMs } from "./duration.ts";

/** How a subject's schema may evolve (the Confluent registry's levels). */
export type CompatibilityLevel =
  | "NONE"
  | "BACKWARD"
  | "BACKWARD_TRANSITIVE"
  | "FORWARD"
  | "FORWARD_TRANSITIVE"
  | "FULL"
  | "FULL_TRANSITIVE";

export type Compression = "zstd" | "lz4" | "snappy" | "gzip" | "producer" | "uncompressed";

export interface BusinessTopic {
  name: string;
  partitions: number;
  /** The value field that keys every record: the entity whose order matters. */
  key: string;
  /** Full name of the Avro record in schemas/ (subject `<topic>-value`). */
  valueSchema: string;
  /** How the value schema may evolve; `sluice schemas check` and the registry enforce it. */
  compatibility: CompatibilityLevel;
  cleanupPolicy: "delete" | "compact";
  /** How long records are kept; compacted topics keep the latest per key regardless. */
  retention: Duration | "forever";
  compression: Compression;
}

/** A business topic with the catalog's usual settings filled in: a declaration says only what differs. */
export function businessTopic(
  spec: Pick<BusinessTopic, "name" | "partitions" | "key" | "valueSchema" | "retention"> & Partial<BusinessTopic>,
): BusinessTopic {
  return { compression: "zstd", cleanupPolicy: "delete", compatibility: "BACKWARD", ...spec };
}

export type TopicRole = "business" | "retry" | "dlq" | "delay";

/** A topic as it must exist on the cluster, whatever declared it. */
export interface TopicPlan {
  name: string;
  role: TopicRole;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

export const retryTopicName = (topic: string, group: string, delay: Duration) => `${topic}.${group}.retry.${delay}`;
export const dlqTopicName = (topic: string, group: string) => `${topic}.${group}.dlq`;
export const delayTopicName = (delay: Duration) => `sluice.delay.${delay}`;

const DLQ_RETENTION: Duration = "30d";
const DELAY_RETENTION: Duration = "7d";

export function configsOf(policy: "delete" | "compact", retention: Duration | "forever", compression: Compression) {
  return {
    "cleanup.policy": policy,
    "retention.ms": retention === "forever" ? "-1" : String(toMs(retention)),
    "compression.type": compression,
  };
}

export function planBusinessTopic(topic: BusinessTopic, replicationFactor: number): TopicPlan {
  return {
    name: topic.name,
    role: "business",
    partitions: topic.partitions,
    replicationFactor,
    configs: configsOf(topic.cleanupPolicy, topic.retention, topic.compression),
  };
}

/**
 * A group's retry tiers and DLQ for its input `topic`. They have the input's partitions, so a key's retries sit
 * in the same partition number as its records, and a member that owns one owns the other.
 */
export function planGroupTopics(
  topic: BusinessTopic,
  group: string,
  retryTiers: readonly Duration[],
  replicationFactor: number,
): TopicPlan[] {
  const { name, partitions, compression } = topic;
  return [
    ...retryTiers.map(
      (delay): TopicPlan => ({
        name: retryTopicName(name, group, delay),
        role: "retry",
        partitions,
        replicationFactor,
        // A retry tier is a queue, not a table: never compacted, whatever its source is.
        configs: configsOf("delete", topic.retention === "forever" ? "7d" : topic.retention, compression),
      }),
    ),
    {
      name: dlqTopicName(name, group),
      role: "dlq",
      partitions,
      replicationFactor,
      configs: configsOf("delete", DLQ_RETENTION, compression),
    },
  ];
}

export function planDelayTier(delay: Duration, partitions: number, replicationFactor: number): TopicPlan {
  return {
    name: delayTopicName(delay),
    role: "delay",
    partitions,
    replicationFactor,
    configs: configsOf("delete", DELAY_RETENTION, "zstd"),
  };
}

export function topicByName(name: string, topics: readonly BusinessTopic[]): BusinessTopic | undefined {
  return topics.find((t) => t.name === name);
}
