import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { applyTopics as apply } from "../../ops/topics/apply-topics.ts";
import type { TopicPlan } from "../../topics/topic.ts";
import { planBusinessTopic, planGroupTopics } from "../../topics/topic.ts";
import { sluice } from "../support/cli.ts";
import { deleteTopics, kafka } from "../support/kafka.ts";
import { testTopicSpec } from "../support/topics.ts";

const prefix = `test.apply.${randomUUID().slice(0, 8)}`;
const topic = testTopicSpec(`${prefix}.events`, { partitions: 3, key: "id", compression: "zstd" });
const plan = [planBusinessTopic(topic, 1), ...planGroupTopics(topic, "g", ["5s"], 1)];
const applyTopics = (topics: TopicPlan[], options: { dryRun: boolean }) => apply(kafka, topics, options);

describe("sluice topics apply", () => {
  afterAll(async () => {
    await deleteTopics(plan.map((p) => p.name));
  });

  it("creates nothing on a dry run, then creates what is missing, then changes nothing", async () => {
    const dry = await applyTopics(plan, { dryRun: true });
    expect(dry.map((c) => c.action)).toEqual(["create", "create", "create"]);
    expect((await applyTopics(plan, { dryRun: true })).map((c) => c.action)).toEqual(["create", "create", "create"]);

    const first = await applyTopics(plan, { dryRun: false });
    expect(first.map((c) => c.name)).toEqual([
      `${prefix}.events`,
      `${prefix}.events.g.retry.5s`,
      `${prefix}.events.g.dlq`,
    ]);
    expect(first.map((c) => c.action)).toEqual(["create", "create", "create"]);

    const second = await applyTopics(plan, { dryRun: false });
    expect(second.map((c) => c.action)).toEqual(["unchanged", "unchanged", "unchanged"]);
  });

  it("reports drift in partitions and configs and leaves the cluster as it is", async () => {
    const name = `${prefix}.events`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      // An operator's hand-made change: more partitions, a shorter retention and another compression.
      await admin.createPartitions(name, 4);
      await admin.setTopicConfig(name, "retention.ms", "60000");
      await admin.setTopicConfig(name, "compression.type", "producer");
      const changes = await applyTopics(plan, { dryRun: false });
      expect(changes[0]).toEqual({
        name,
        action: "drift",
        differences: [
          "partitions: cluster has 4, catalog says 3",
          "retention.ms: cluster has 60000, catalog says 86400000",
          "compression.type: cluster has producer, catalog says zstd",
        ],
      });
      expect(changes.slice(1).map((c) => c.action)).toEqual(["unchanged", "unchanged"]);
      const [after] = await admin.describeTopics([name]);
      expect(after?.partitions).toBe(4);
    } finally {
      await admin.disconnect();
    }
  });

  it("reconciles the real catalog idempotently from the CLI", async () => {
    await sluice(["topics", "apply"]);
    const again = await sluice(["topics", "apply"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^0 created, 0 drifted, \d+ unchanged$/m);
  });
});
