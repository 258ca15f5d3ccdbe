/** A cancelled order gives its reserved stock back, once, in the same PostgreSQL transaction as its ledger entry. */
import { transactionOf } from "../../runtime/index.ts";
import { defineProcessor } from "../define.ts";

export const restoreStock = defineProcessor({
  name: "inventory-restore",
  input: "orders.cancelled",
  outputs: ["inventory.changes"],
  delivery: "exactly-once",
  retryTiers: ["5s", "1m"],
  ledger: "postgres",
  async handler(cancelled, ctx) {
    const { orderId } = cancelled.value;
    const released = await ctx.once(`restore:${orderId}`, async (scope) => {
      const db = transactionOf(scope);
      const { rows } = await db.query<{ sku: string; quantity: number }>(
        "UPDATE stock_reservations SET released_at = now() WHERE order_id = $1 AND released_at IS NULL RETURNING sku, quantity",
        [orderId],
      );
      for (const row of rows) {
        await db.query("UPDATE stock SET quantity = quantity + $2 WHERE sku = $1", [row.sku, row.quantity]);
      }
      return rows;
    });
    for (const row of released ?? []) {
      await ctx.send("inventory.changes", row.sku, {
        sku: row.sku,
        delta: row.quantity,
        reason: "ORDER_CANCELLED",
        orderId,
        changedAt: BigInt(ctx.clock.now()),
      });
    }
  },
});
