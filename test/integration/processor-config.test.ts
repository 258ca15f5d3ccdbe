/**
 * Broadcast configuration inside handlers, on the real stack: `sluice config set` reaches a running `sluice run`,
 * and the points processor grants by the multiplier its node holds when each order is handled.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { POINTS_MULTIPLIER } from "../../processors/points/grant-points.ts";
import { runtimeConfig } from "../../runtime/index.ts";
import type { OrderCreated } from "../../schemas/types.generated.ts";
import { sluice } from "../support/cli.ts";
import { eventually, produceToCatalog } from "../support/runtime.ts";
import { killStrays, startSluiceRun } from "../support/sluice-run.ts";

const db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl });

afterAll(async () => {
  await sluice(["config", "set", POINTS_MULTIPLIER, "1"]); // what the other tests expect
  await killStrays();
  await db.end();
});

describe("ctx.config in a running processor", () => {
  it("grants points by the multiplier the node holds when each order is handled", async () => {
    const run = randomUUID().slice(0, 8);
    const order = (orderId: string): OrderCreated => ({
      orderId,
      userId: `user-${run}`,
      items: [{ sku: `sku-${run}`, quantity: 1, unitPriceCents: 4_200n }],
      totalCents: 4_200n,
      currency: "EUR",
      createdAt: BigInt(Date.now()),
    });
    const points = async (orderId: string) =>
      (await db.query<{ points: number }>("SELECT points FROM points_ledger WHERE order_id = $1", [orderId])).rows[0]
        ?.points;
    expect((await sluice(["config", "set", POINTS_MULTIPLIER, "1"])).code).toBe(0);
    const host = startSluiceRun(["points"], { SLUICE_LOG_LEVEL: "info" }); // it logs each change it applies
    await host.ready();
    await produceToCatalog("orders.created", [order(`before-${run}`)]);
    expect(await eventually(async () => (await points(`before-${run}`)) === 42)).toBe(true);

    const set = await sluice(["config", "set", POINTS_MULTIPLIER, "3"]);
    expect(set.code).toBe(0);
    const version = set.stdout.match(/\(version (\d+)\)/)?.[1];
    const applied = `"config.key":"${POINTS_MULTIPLIER}","config.version":"${version}"`;
    expect(await eventually(() => readFileSync(host.log, "utf8").includes(applied))).toBe(true);
    await produceToCatalog("orders.created", [order(`during-${run}`)]);
    expect(await eventually(async () => (await points(`during-${run}`)) !== undefined)).toBe(true);
    expect(await points(`during-${run}`)).toBe(126);
    expect(await host.stop()).toBe(0);
  });
});
