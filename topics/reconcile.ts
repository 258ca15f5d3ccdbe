/**
 * Compares the catalog's plan with what the cluster has. Pure: the cluster is read elsewhere.
 * Missing topics are created; anything that differs is drift, reported and never changed silently
 * (fewer partitions would reorder keys, a config change may be someone's hotfix).
 */
import type { TopicPlan } from "./topic.ts";

export interface ClusterTopic {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

export type TopicChange =
  | { name: string; action: "create"; plan: TopicPlan }
  | { name: string; action: "unchanged" }
  | { name: string; action: "drift"; differences: string[] };

export function reconcile(plan: readonly TopicPlan[], cluster: ReadonlyMap<string, ClusterTopic>): TopicChange[] {
  return plan.map((wanted): TopicChange => {
    const actual = cluster.get(wanted.name);
    if (!actual) return { name: wanted.name, action: "create", plan: wanted };
    const differences = [
      ...(actual.partitions !== wanted.partitions
        ? [`partitions: cluster has ${actual.partitions}, catalog says ${wanted.partitions}`]
        : []),
      ...(actual.replicationFactor !== wanted.replicationFactor
        ? [`replication: cluster has ${actual.replicationFactor}, catalog says ${wanted.replicationFactor}`]
        : []),
      ...Object.entries(wanted.configs)
        .filter(([key, value]) => actual.configs[key] !== value)
        .map(([key, value]) => `${key}: cluster has ${actual.configs[key] ?? "(unset)"}, catalog says ${value}`),
    ];
    return differences.length
      ? { name: wanted.name, action: "drift", differences }
      : { name: wanted.name, action: "unchanged" };
  });
}
