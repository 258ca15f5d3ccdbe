import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { nodeTooOld } from "../../ops/cli/node-version.js";
import { sluice } from "../support/cli.ts";

/** A user's mistake: exit 2, one line on stderr that says what is wrong, no stack trace. */
function expectUsageError(result: { code: number; stderr: string }, mentions: string) {
  expect(result.code).toBe(2);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^sluice: /);
  expect(lines[0]).toContain(mentions);
}

describe("the sluice CLI on bad input", () => {
  it.each([
    [["frobnicate"], "unknown command 'frobnicate'"],
    [["topics", "aply"], "topics needs one of: apply, list (got 'aply')"],
    [["topics", "apply", "--force"], "--force"],
    [["stack"], "stack needs one of: up, down, status"],
    [["stack", "status", "now"], "unexpected argument 'now'"],
    [["schemas", "codegen", "--chek"], "--chek"],
    [["tail"], "which topic?"],
    [["tail", "orders.craeted"], "unknown topic 'orders.craeted'"],
    [["tail", "orders.created", "--max", "ten"], "--max needs a positive whole number, got 'ten'"],
    [["tail", "orders.created", "--timeout", "soon"], "--timeout needs a duration such as 30s or 5m, got 'soon'"],
  ])("sluice %j", async (args, mentions) => {
    expectUsageError(await sluice(args), mentions);
  });

  it("prints usage and exits 2 with no command", async () => {
    const result = await sluice([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("usage: sluice <command>");
  });

  it("names the broken schema file in one line", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sluice-schemas-"));
    cpSync(path.resolve(import.meta.dirname, "../../schemas"), dir, { recursive: true });
    writeFileSync(path.join(dir, "orders", "OrderCreated.avsc"), '{ "type": "record", "name": ');
    const result = await sluice(["schemas", "codegen", "--check"], { SLUICE_SCHEMAS_DIR: dir });
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^sluice: .*OrderCreated\.avsc: not JSON/);
    expect(result.stderr).toContain("[SCHEMA_INVALID]");
  });

  it("fails the codegen check when generated types are stale", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sluice-schemas-"));
    cpSync(path.resolve(import.meta.dirname, "../../schemas"), dir, { recursive: true });
    const file = path.join(dir, "alerts", "Alert.avsc");
    writeFileSync(
      file,
      JSON.stringify({
        type: "record",
        name: "Alert",
        namespace: "sluice.alerts",
        fields: [{ name: "alertId", type: "string" }],
      }),
    );
    const result = await sluice(["schemas", "codegen", "--check"], { SLUICE_SCHEMAS_DIR: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("is stale: run `sluice schemas codegen`");
  });

  it.each([
    ["SLUICE_MAX_POLL_INTERVAL_MS", "soon", "SLUICE_MAX_POLL_INTERVAL_MS must be a whole number from 1000"],
    ["SLUICE_LOG_LEVEL", "loud", "SLUICE_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent"],
    ["SCHEMA_REGISTRY_URL", "not a url", "SCHEMA_REGISTRY_URL must be a URL, got 'not a url'"],
  ])("names a bad %s in one line and exits 2", async (name, value, mentions) => {
    expectUsageError(await sluice(["topics", "list"], { [name]: value }), mentions);
  });

  it("names a bad domain setting in one line and exits 2 before running anything", async () => {
    const result = await sluice(["run", "order-timeout"], { SLUICE_ORDER_TIMEOUT: "soon" });
    expectUsageError(result, "SLUICE_ORDER_TIMEOUT must be a duration such as 500ms, 5s, 10m or 1h, got 'soon'");
  });
});

describe("the sluice command on an older Node", () => {
  it("says which Node it needs and how to get it, instead of a stack trace", () => {
    expect(nodeTooOld("v20.20.2")).toBe(
      "sluice: needs Node.js 24 or newer, this is v20.20.2: run `source ops/toolchain/env.sh` (it provides Node 24) and try again [NODE_TOO_OLD]",
    );
    expect(nodeTooOld("v24.21.0")).toBeUndefined();
  });

  it("runs the CLI on Node 24", () => {
    const usage = execFileSync(
      process.execPath,
      [path.resolve(import.meta.dirname, "../../ops/cli/bin.js"), "--help"],
      {
        encoding: "utf8",
      },
    );
    expect(usage).toMatch(/^usage: sluice <command>/);
  });
});
