/**
 * The reference domain on the deterministic driver: the order processors as they are, on an in-memory Kafka and a
 * simulated clock, with their PostgreSQL tables (a real PostgresLedger, as in production). Half an hour of
 * payment deadline passes in milliseconds.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS, PROCESSORS } from "../../processors/registry.ts";
import { domainSettings } from "../../processors/settings.ts";
import { PostgresLedger, runtimeConfig } from "../../runtime/index.ts";
import { TestDriver } from "../../runtime/testing/index.ts";
import type { OrderCreated, TopicValues } from "../../schemas/types.generated.ts";
import { TOPICS } from "../../topics/catalog.ts";
import { schemas } from "../support/runtime.ts";

describe("order timeout on the driver", () => {
  let ledger: PostgresLedger;
  let db: pg.Pool;

  beforeAll(async () => {
    ledger = await PostgresLedger.connect(runtimeConfig().databaseUrl, [MIGRATIONS]);
    db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl, max: 2 });
  });

  afterAll(async () => {
    await ledger?.close();
    await db?.end();
  });

  it("cancels an unpaid order after 30 simulated minutes and gives its stock back; a paid one is kept", async () => {
    const started = performance.now();
    const run = randomUUID().slice(0, 8);
    const sku = `sku-driver-${run}`;
    const driver = await TestDriver.start<TopicValues>({ topics: TOPICS, schemas, processors: PROCESSORS, ledger });
    const stock = async () =>
      Number((await db.query("SELECT quantity FROM stock WHERE sku = $1", [sku])).rows[0]?.quantity);
    const order = (orderId: string): OrderCreated => ({
      orderId,
      userId: `user-${run}`,
      items: [{ sku, quantity: 3, unitPriceCents: 500n }],
      totalCents: 1_500n,
      currency: "EUR",
      createdAt: BigInt(driver.clock.now()),
    });
    const unpaid = `unpaid-${run}`;
    const paid = `paid-${run}`;
    const now = () => BigInt(driver.clock.now());
    for (const orderId of [unpaid, paid]) {
      await driver.pipe("orders.created", orderId, order(orderId));
      await driver.pipe("orders.state", orderId, { orderId, state: "CREATED", changedAt: now() });
    }
    await driver.pipe("orders.state", paid, { orderId: paid, state: "PAID", changedAt: now() });
    const reserved = await stock();
    expect(reserved).toBe(domainSettings().initialStock - 6); // both orders' 3 reserved

    await driver.advance("29m");
    expect(await driver.read("orders.cancelled")).toEqual([]);
    expect(await stock()).toBe(reserved);

    await driver.advance("1m");
    const cancelled = await driver.read("orders.cancelled");
    expect(cancelled.map((r) => r.key)).toEqual([unpaid]);
    expect(cancelled[0]?.value).toMatchObject({ orderId: unpaid, reason: "PAYMENT_TIMEOUT" });
    expect(await stock()).toBe(reserved + 3);
    const states = await db.query("SELECT order_id, state FROM order_states WHERE order_id = ANY($1) ORDER BY 1", [
      [unpaid, paid],
    ]);
    expect(states.rows).toEqual([
      { order_id: paid, state: "PAID" },
      { order_id: unpaid, state: "CANCELLED" },
    ]);
    await driver.stop();
    console.log(`30 simulated minutes in ${(performance.now() - started).toFixed(0)} ms of real time`);
  });
});
