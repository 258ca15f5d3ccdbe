import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sluice } from "../support/cli.ts";
import { registry } from "../support/runtime.ts";

const SCHEMAS = path.resolve(import.meta.dirname, "../../schemas");

/** A copy of schemas/ with one extra field in OrderCreated: what a developer's pull request would change. */
function withNewOrderField(field: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sluice-schemas-"));
  cpSync(SCHEMAS, dir, { recursive: true });
  const file = path.join(dir, "orders", "OrderCreated.avsc");
  const schema = JSON.parse(readFileSync(file, "utf8")) as { fields: unknown[] };
  schema.fields.push(field);
  writeFileSync(file, JSON.stringify(schema, null, 2));
  return dir;
}

describe("sluice schemas check and register", () => {
  beforeAll(async () => {
    const registered = await sluice(["schemas", "register"]);
    expect(registered.code, registered.stderr).toBe(0);
  });

  it("passes when the local schemas are what the registry has", async () => {
    const result = await sluice(["schemas", "check"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^orders\.created-value\s+unchanged\s+BACKWARD$/m);
    expect(result.stdout).toMatch(/^config\.updates-value\s+unchanged\s+FULL_TRANSITIVE$/m);
  });

  it("refuses a new field without a default, naming it", async () => {
    const dir = withNewOrderField({ name: "couponCode", type: "string" });
    const result = await sluice(["schemas", "check"], { SLUICE_SCHEMAS_DIR: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/orders\.created-value\s+incompatible/);
    expect(result.stdout).toContain("sluice.orders.OrderCreated.couponCode: has no default and old data lacks it");
    expect(result.stderr).toContain("1 subject(s) incompatible: orders.created-value");
  });

  it("registers nothing when any subject is incompatible", async () => {
    const before = await registry.versions("orders.created-value");
    const dir = withNewOrderField({ name: "couponCode", type: "string" });
    const result = await sluice(["schemas", "register"], { SLUICE_SCHEMAS_DIR: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("nothing registered");
    expect(await registry.versions("orders.created-value")).toEqual(before);
  });

  it("accepts the same field with a default", async () => {
    const dir = withNewOrderField({ name: "couponCode", type: ["null", "string"], default: null });
    const result = await sluice(["schemas", "check"], { SLUICE_SCHEMAS_DIR: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/orders\.created-value\s+compatible\s+BACKWARD/);
  });

  it("leaves each subject's compatibility level configured in the registry", async () => {
    expect(await registry.compatibility("orders.created-value")).toBe("BACKWARD");
    expect(await registry.compatibility("config.updates-value")).toBe("FULL_TRANSITIVE");
  });
});
