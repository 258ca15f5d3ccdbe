/**
 * Compensation on the real stack: an order inventory cannot cover is cancelled through events, the items reserved
 * for it before the short one are given back, stock never goes below zero, and the customer gets an email.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AvroSerde, runtimeConfig } from "../../runtime/index.ts";
import type { OrderCancelled, OrderCreated } from "../../schemas/types.generated.ts";
import { consumeUntil } from "../support/kafka.ts";
import { eventually, produceToCatalog, registry } from "../support/runtime.ts";
import { killStrays, type RunningHost, startSluiceRun } from "../support/sluice-run.ts";

describe("an order inventory cannot cover", () => {
  const run = randomUUID().slice(0, 8);
  const [plenty, scarce, later] = ["a", "scarce", "z"].map((s) => `sku-${run}-${s}`) as [string, string, string];
  const [first, second] = [`comp-${run}-1`, `comp-${run}-2`];
  let host: RunningHost;
  const db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl });
  const serde = new AvroSerde(registry);

  const order = (orderId: string, items: [string, number][]): OrderCreated => ({
    orderId,
    userId: `user-${run}`,
    items: items.map(([sku, quantity]) => ({ sku, quantity, unitPriceCents: 500n })),
    totalCents: 500n * BigInt(items.reduce((n, [, q]) => n + q, 0)),
    currency: "EUR",
    createdAt: BigInt(Date.now()),
  });
  const rows = async <R extends pg.QueryResultRow>(sql: string, params: unknown[]) =>
    (await db.query<R>(sql, params)).rows;
  const reservations = (orderId: string) =>
    rows<{ sku: string; released: boolean }>(
      "SELECT sku, released_at IS NOT NULL AS released FROM stock_reservations WHERE order_id = $1 ORDER BY sku",
      [orderId],
    );
  const stock = async (sku: string) =>
    (await rows<{ quantity: number }>("SELECT quantity FROM stock WHERE sku = $1", [sku]))[0]?.quantity;

  beforeAll(async () => {
    host = startSluiceRun(["inventory", "inventory-restore", "order-state", "email-sender"], {
      SLUICE_INITIAL_STOCK: "100",
    });
    await host.ready();
    await db.query("INSERT INTO stock (sku, quantity) VALUES ($1, 3)", [scarce]);
  });

  afterAll(async () => {
    await killStrays();
    await db.end();
  });

  it("is cancelled, gives back what was reserved for it, and its customer is told", async () => {
    await produceToCatalog(
      "orders.state",
      [first, second].map((orderId) => ({ orderId, state: "CREATED" as const, changedAt: 1n })),
    );
    await produceToCatalog("orders.created", [
      order(first, [
        [plenty, 1],
        [scarce, 2],
      ]),
    ]);
    expect(await eventually(async () => (await reservations(first)).length === 2)).toBe(true);
    // One of the scarce SKU is left: the second order takes `plenty` (before it in SKU order), then is refused.
    await produceToCatalog("orders.created", [
      order(second, [
        [later, 1],
        [scarce, 2],
        [plenty, 1],
      ]),
    ]);

    const released = async () => (await reservations(second)).some((r) => r.released);
    expect(await eventually(async () => (await released()) && (await stock(plenty)) === 99)).toBe(true);
    expect(await reservations(second)).toEqual([{ sku: plenty, released: true }]);
    expect(await reservations(first)).toEqual([
      { sku: plenty, released: false },
      { sku: scarce, released: false },
    ]);
    expect(await stock(scarce)).toBe(1);
    expect(await stock(later)).toBeUndefined(); // never reached: nothing taken after the short item

    const state = async (orderId: string) =>
      (await rows<{ state: string }>("SELECT state FROM order_states WHERE order_id = $1", [orderId]))[0]?.state;
    expect(
      await eventually(async () => (await state(second)) === "CANCELLED" && (await state(first)) === "CREATED"),
    ).toBe(true);
    const emails = () =>
      rows<{ email_id: string; template: string; recipient: string }>(
        "SELECT email_id, template, recipient FROM emails_sent WHERE email_id LIKE $1",
        [`%${run}%`],
      );
    expect(await eventually(async () => (await emails()).length > 0)).toBe(true);
    expect(await emails()).toEqual([
      {
        email_id: `order-out-of-stock:${second}`,
        template: "order-out-of-stock",
        recipient: `user-${run}@example.com`,
      },
    ]);
    const cancellations = await consumeUntil("orders.cancelled", (r) => r.some((x) => x.key === second), 15_000, 500);
    const mine = cancellations.filter((r) => r.key === first || r.key === second);
    expect(mine).toHaveLength(1);
    expect((await serde.decode<OrderCancelled>(mine[0]?.value as Buffer)).value).toMatchObject({
      orderId: second,
      reason: "OUT_OF_STOCK",
    });
    expect(await host.stop()).toBe(0);
  });
});
