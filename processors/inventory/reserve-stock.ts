/**
 * Transactional stock deduction. Each new order reserves its items: the stock update, the reservation rows and
 * the ledger entry commit in one PostgreSQL transaction (ctx.once, keyed by orderId), and the inventory.changes
 * events go out in the Kafka transaction that commits the order's offset. A crash anywhere leaves either
 * nothing or everything, and a redelivered order finds its reservation done and re-emits the same events.
 */
import { transactionOf } from "../../runtime/index.ts";
import { defineProcessor } from "../define.ts";
import { validOrder } from "../order-rules.ts";
import { domainSettings } from "../settings.ts";

export const reserveStock = defineProcessor({
  name: "inventory",
  input: "orders.created",
  outputs: ["inventory.changes"],
  delivery: "exactly-once",
  retryTiers: ["5s", "1m"],
  ledger: "postgres",
  async handler(order, ctx) {
    const { orderId, items } = validOrder(order.value);
    await ctx.once(`reserve:${orderId}`, async (scope) => {
      const db = transactionOf(scope);
      for (const item of items) {
        await db.query("INSERT INTO stock (sku, quantity) VALUES ($1, $2) ON CONFLICT (sku) DO NOTHING", [
          item.sku,
          domainSettings().initialStock,
        ]);
        await db.query("UPDATE stock SET quantity = quantity - $2 WHERE sku = $1", [item.sku, item.quantity]);
        await db.query("INSERT INTO stock_reservations (order_id, sku, quantity) VALUES ($1, $2, $3)", [
          orderId,
          item.sku,
          item.quantity,
        ]);
      }
    });
    for (const item of items) {
      await ctx.send("inventory.changes", item.sku, {
        sku: item.sku,
        delta: -item.quantity,
        reason: "ORDER_RESERVED",
        orderId,
        changedAt: BigInt(ctx.clock.now()),
      });
    }
  },
});
