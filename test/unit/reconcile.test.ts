import { describe, expect, it } from "vitest";
import { type ClusterTopic, reconcile } from "../../topics/reconcile.ts";
import type { TopicPlan } from "../../topics/topic.ts";

const plan: TopicPlan = {
  name: "orders.created",
  role: "business",
  partitions: 12,
  replicationFactor: 1,
  configs: { "cleanup.policy": "delete", "retention.ms": "604800000" },
};
const onCluster = (overrides: Partial<ClusterTopic> = {}): Map<string, ClusterTopic> =>
  new Map([
    [plan.name, { name: plan.name, partitions: 12, replicationFactor: 1, configs: { ...plan.configs }, ...overrides }],
  ]);

describe("topic reconciliation", () => {
  it("creates a topic the cluster lacks", () => {
    expect(reconcile([plan], new Map())).toEqual([{ name: plan.name, action: "create", plan }]);
  });

  it("leaves a matching topic unchanged", () => {
    expect(reconcile([plan], onCluster())).toEqual([{ name: plan.name, action: "unchanged" }]);
  });

  it("reports partition, replication and config drift with both values", () => {
    const [change] = reconcile(
      [plan],
      onCluster({
        partitions: 6,
        replicationFactor: 3,
        configs: { "cleanup.policy": "compact", "retention.ms": "604800000" },
      }),
    );
    expect(change).toEqual({
      name: plan.name,
      action: "drift",
      differences: [
        "partitions: cluster has 6, catalog says 12",
        "replication: cluster has 3, catalog says 1",
        "cleanup.policy: cluster has compact, catalog says delete",
      ],
    });
  });

  it("reports a config the cluster does not return as unset", () => {
    const [change] = reconcile([plan], onCluster({ configs: { "cleanup.policy": "delete" } }));
    expect(change).toMatchObject({
      action: "drift",
      differences: ["retention.ms: cluster has (unset), catalog says 604800000"],
    });
  });
});
