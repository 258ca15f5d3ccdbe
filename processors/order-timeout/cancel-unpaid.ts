/**
 * At an order's payment deadline: if it is still only created, cancel it (orders.cancelled, which restores its
 * stock, and the CANCELLED state); a paid order is left alone. The decision is taken once per order and
 * remembered, so a redelivered deadline produces the same records.
 */
import { transactionOf } from "../../runtime/index.ts";
import { defineProcessor } from "../define.ts";

export const cancelUnpaid = defineProcessor({
  name: "order-timeout-check",
  input: "orders.payment-due",
  outputs: ["orders.cancelled", "orders.state"],
  delivery: "exactly-once",
  retryTiers: ["5s", "1m"],
  ledger: "postgres",
  async handler(due, ctx) {
    const { orderId } = due.value;
    const cancel = await ctx.once(`timeout:${orderId}`, async (scope) => {
      const db = transactionOf(scope);
      const { rows } = await db.query<{ state: string }>("SELECT state FROM order_states WHERE order_id = $1", [
        orderId,
      ]);
      const state = rows[0]?.state ?? "CREATED";
      return state === "CREATED";
    });
    if (!cancel) return;
    const now = BigInt(ctx.clock.now());
    await ctx.send("orders.cancelled", orderId, { orderId, reason: "PAYMENT_TIMEOUT", cancelledAt: now });
    await ctx.send("orders.state", orderId, { orderId, state: "CANCELLED", changedAt: now });
    ctx.log.info({ "order.id": orderId }, "unpaid order cancelled");
  },
});
