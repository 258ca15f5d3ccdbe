/** Loyalty points for every order: one row per order event in the points ledger, however often it is delivered. */
import { validOrder } from "../order-rules.ts";
import { HEADER } from "../runtime/headers.ts";
import { transactionOf } from "../runtime/ledger/ledger.ts";
import { defineProcessor } from "../runtime/processor.ts";

export const grantPoints = defineProcessor({
  name: "points",
  group: "points",
  input: "orders.created",
  outputs: [],
  delivery: "at-least-once",
  retry: "non-blocking",
  keyConcurrency: 16,
  ledger: "postgres",
  async handler(order, ctx) {
    const { orderId, userId, totalCents } = validOrder(order.value);
    const eventId = order.headers[HEADER.eventId] ?? "";
    await ctx.once(`points:${eventId}`, async (scope) => {
      const db = transactionOf(scope, "points");
      await db.query("INSERT INTO points_ledger (event_id, user_id, order_id, points) VALUES ($1, $2, $3, $4)", [
        eventId,
        userId,
        orderId,
        // One point per whole currency unit; the column's range is the database's to enforce.
        totalCents / 100n,
      ]);
    });
  },
});
