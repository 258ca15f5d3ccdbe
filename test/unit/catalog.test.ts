import type avro from "avsc";
import { describe, expect, it } from "vitest";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";
import { subjectSchemas } from "../../schemas/subjects.ts";
import { catalogPlan, DELAY_TIERS, TOPICS } from "../../topics/catalog.ts";
import { toMs } from "../../topics/duration.ts";

describe("topic catalog", () => {
  const plan = catalogPlan();

  it("declares the reference domain's topics", () => {
    expect(TOPICS.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        "orders.created",
        "orders.state",
        "orders.cancelled",
        "inventory.changes",
        "emails.outbound",
        "users.status",
        "videos.uploaded",
        "videos.processed",
        "flashsale.purchases",
        "config.updates",
        "logs.app",
        "alerts",
      ]),
    );
  });

  it("compacts the topics that are tables", () => {
    const compacted = TOPICS.filter((t) => t.cleanupPolicy === "compact").map((t) => t.name);
    expect(compacted.sort()).toEqual(["config.updates", "users.status"]);
  });

  it("derives retry tiers and a DLQ per consumer group, never per topic", () => {
    const names = plan.map((p) => p.name);
    expect(names).toContain("orders.created.email.retry.5s");
    expect(names).toContain("orders.created.email.retry.10m");
    expect(names).toContain("orders.created.email.dlq");
    expect(names).toContain("orders.created.inventory.dlq");
    expect(names).not.toContain("orders.created.dlq");
    const retry = plan.find((p) => p.name === "orders.created.email.retry.5s");
    expect(retry).toMatchObject({ role: "retry", partitions: 12, configs: { "cleanup.policy": "delete" } });
  });

  it("declares the delay tiers", () => {
    expect(DELAY_TIERS.map(toMs)).toEqual([...DELAY_TIERS.map(toMs)].sort((a, b) => a - b));
    expect(plan.filter((p) => p.role === "delay").map((p) => p.name)).toEqual(
      DELAY_TIERS.map((d) => `sluice.delay.${d}`),
    );
  });

  it("names every topic once", () => {
    const names = plan.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("keys every topic by a string field of its value schema", () => {
    const schemas = loadSchemaFiles();
    for (const { topic, schema } of subjectSchemas(schemas)) {
      const spec = TOPICS.find((t) => t.name === topic);
      const keyField = (schema.type as avro.types.RecordType).fields.find((f) => f.name === spec?.key);
      expect(keyField?.type.typeName, `${topic} key ${spec?.key}`).toBe("string");
    }
  });

  it("parses durations and rejects nonsense with a clear error", () => {
    expect(toMs("500ms")).toBe(500);
    expect(toMs("10m")).toBe(600_000);
    expect(toMs("7d")).toBe(604_800_000);
    expect(() => toMs("5 minutes")).toThrow("'5 minutes' is not a duration");
  });
});
