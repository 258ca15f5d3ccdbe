/**
 * The shape of the topic catalog. A business topic declares its key, value schema and storage; each consumer
 * group declares its own retry tiers, from which its `<topic>.<group>.retry.<delay>` and `<topic>.<group>.dlq`
 * topics are derived (retries belong to a group, never to the topic).
 */
import type { CompatibilityLevel } from "../processors/runtime/serde/registry-client.ts";
import { type Duration, toMs } from "./duration.ts";

export type Compression = "zstd" | "lz4" | "snappy" | "gzip" | "producer" | "uncompressed";

export interface ConsumerGroup {
  group: string;
  /** Delays of the retry tiers in order; after the last one a record goes to the DLQ. */
  retryTiers: Duration[];
}

export interface BusinessTopic {
  name: string;
  partitions: number;
  replicationFactor: number;
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
  consumers: ConsumerGroup[];
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

export function configsOf(policy: "delete" | "compact", retention: Duration | "forever", compression: Compression) {
  return {
    "cleanup.policy": policy,
    "retention.ms": retention === "forever" ? "-1" : String(toMs(retention)),
    "compression.type": compression,
  };
}

/** Every topic the catalog implies: business topics, then each group's retry tiers and DLQ. */
export function planBusinessTopic(topic: BusinessTopic): TopicPlan[] {
  const own: TopicPlan = {
    name: topic.name,
    role: "business",
    partitions: topic.partitions,
    replicationFactor: topic.replicationFactor,
    configs: configsOf(topic.cleanupPolicy, topic.retention, topic.compression),
  };
  const derived = topic.consumers.flatMap(({ group, retryTiers }) => [
    ...retryTiers.map(
      (delay): TopicPlan => ({
        name: retryTopicName(topic.name, group, delay),
        role: "retry",
        partitions: topic.partitions,
        replicationFactor: topic.replicationFactor,
        // A retry tier is a queue, not a table: never compacted, whatever its source is.
        configs: configsOf("delete", topic.retention === "forever" ? "7d" : topic.retention, topic.compression),
      }),
    ),
    {
      name: dlqTopicName(topic.name, group),
      role: "dlq" as const,
      partitions: topic.partitions,
      replicationFactor: topic.replicationFactor,
      configs: configsOf("delete", DLQ_RETENTION, topic.compression),
    },
  ]);
  return [own, ...derived];
}

export function planDelayTier(delay: Duration, partitions: number, replicationFactor: number): TopicPlan {
  return {
    name: delayTopicName(delay),
    role: "delay",
    partitions,
    replicationFactor,
    configs: configsOf("delete", "7d", "zstd"),
  };
}
