import type avro from "avsc";
import { describe, expect, it } from "vitest";
import { PROCESSORS } from "../../processors/registry.ts";
import { DELAY_TIERS, routesOf, topicPlan } from "../../runtime/index.ts";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";
import { subjectSchemas } from "../../schemas/subjects.ts";
import { TOPICS } from "../../topics/catalog.ts";
import { parseDuration, toMs } from "../../topics/duration.ts";
import { testTopicSpec } from "../support/topics.ts";

describe("topic catalog", () => {
  const plan = topicPlan(TOPICS, PROCESSORS, 1);

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

  it("derives retry tiers and a DLQ per processor's group, from its route, never per topic", () => {
    const names = plan.map((p) => p.name);
    expect(names).toContain("orders.created.email.retry.5s");
    expect(names).toContain("orders.created.email.retry.10m");
    expect(names).toContain("orders.created.email.dlq");
    expect(names).toContain("orders.created.inventory.dlq");
    expect(names).not.toContain("orders.created.dlq");
    const retry = plan.find((p) => p.name === "orders.created.email.retry.5s");
    expect(retry).toMatchObject({ role: "retry", partitions: 12, configs: { "cleanup.policy": "delete" } });
    // The inventory processor declares its own tiers; the others take the default 5s, 1m, 10m.
    expect(names.filter((n) => n.startsWith("orders.created.inventory.retry."))).toEqual([
      "orders.created.inventory.retry.5s",
      "orders.created.inventory.retry.1m",
    ]);
  });

  it("fills in a route's defaults: group = name, default tiers and key concurrency", () => {
    const [route] = routesOf([{ name: "audit", input: "orders.created", async handler() {} }], TOPICS);
    expect(route).toMatchObject({
      group: "audit",
      delivery: "at-least-once",
      retry: "non-blocking",
      tiers: ["5s", "1m", "10m"],
      tierTopics: ["orders.created.audit.retry.5s", "orders.created.audit.retry.1m", "orders.created.audit.retry.10m"],
      dlqTopic: "orders.created.audit.dlq",
      keyConcurrency: 16,
    });
  });

  it("refuses a route to a topic the catalog does not have, or two processors in one group's place", () => {
    const handler = async () => {};
    expect(() => routesOf([{ name: "x", input: "orders.craeted", handler }], TOPICS)).toThrow(
      "processor x: topic orders.craeted is not in the catalog",
    );
    expect(() =>
      routesOf(
        [
          { name: "a", group: "g", input: "orders.created", handler },
          { name: "b", group: "g", input: "orders.created", handler },
        ],
        [...TOPICS, testTopicSpec("unused")],
      ),
    ).toThrow("processors a and b both read orders.created as group g");
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
    for (const { topic, schema } of subjectSchemas(schemas, TOPICS)) {
      const spec = TOPICS.find((t) => t.name === topic);
      const keyField = (schema.type as avro.types.RecordType).fields.find((f) => f.name === spec?.key);
      expect(keyField?.type.typeName, `${topic} key ${spec?.key}`).toBe("string");
    }
  });

  it("parses durations and rejects nonsense with a clear error", () => {
    expect(toMs("500ms")).toBe(500);
    expect(toMs("10m")).toBe(600_000);
    expect(toMs("7d")).toBe(604_800_000);
    expect(parseDuration("5 minutes")).toBeUndefined();
    expect(() => toMs("1.5s")).toThrow("'1.5s' is not a duration");
  });
});
