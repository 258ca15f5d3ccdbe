import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { wholeTopic } from "../../runtime/index.ts";
import { sluice } from "../support/cli.ts";
import { kafka } from "../support/kafka.ts";
import { produceToCatalog } from "../support/runtime.ts";

describe("sluice stack", () => {
  it("shows every component healthy, with its address and version", async () => {
    const result = await sluice(["stack", "status"]);
    expect(result.code).toBe(0);
    for (const name of ["postgresql", "redis", "kafka", "schema-registry", "elasticsearch"]) {
      expect(result.stdout).toMatch(new RegExp(`^${name}\\s+\\S+\\s+\\S.*\\s+healthy`, "m"));
    }
    expect(result.stdout).toMatch(/^kafka\s+127\.0\.0\.1:9092\s+4\.3\.\d/m);
  });

  it("reuses running components when brought up again", async () => {
    const result = await sluice(["stack", "up"], {}, 120_000);
    expect(result.code).toBe(0);
    expect(result.stdout.match(/, reused$/gm)).toHaveLength(5);
  });
});

describe("sluice tail", () => {
  it("prints decoded records as JSON lines with key, headers and coordinates", async () => {
    // Records, not offsets: the alert rules write alerts in transactions, whose markers take offsets too.
    let existing = 0;
    await kafka.readToEnd(await wholeTopic(kafka, "alerts"), () => existing++);
    const alertId = `alert-${randomUUID()}`;
    await produceToCatalog("alerts", [
      { alertId, severity: "CRITICAL", source: "test", summary: "disk full", details: { host: "db-1" }, raisedAt: 1n },
    ]);
    const result = await sluice([
      "tail",
      "alerts",
      "--from-beginning",
      "--max",
      String(existing + 1),
      "--timeout",
      "45s",
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(existing + 1);
    const ours = lines.find((l) => l.key === alertId);
    expect(ours).toMatchObject({
      topic: "alerts",
      partition: expect.any(Number),
      offset: expect.stringMatching(/^\d+$/),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      headers: { "event-id": expect.any(String), "trace-id": expect.any(String), "produced-at": expect.any(String) },
      schemaId: expect.any(Number),
      value: {
        alertId,
        severity: "CRITICAL",
        source: "test",
        summary: "disk full",
        details: { host: "db-1" },
        raisedAt: 1,
      },
    });
  });
});
