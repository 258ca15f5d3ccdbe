/** Loyalty points for every order: one row per order event in the points ledger, however often it is delivered. */
import { HEADER, transactionOf } from "../../runtime/index.ts";
import { defineProcessor } from "../define.ts";
import { validOrder } from "../order-rules.ts";

export const grantPoints = defineProcessor({
  name: "points",
  input: "orders.created",
  ledger: "postgres",
  async handler(order, ctx) {
    const { orderId, userId, totalCents } = validOrder(order.value);
    const eventId = order.headers[HEADER.eventId] ?? "";
    await ctx.once(`points:${eventId}`, async (scope) => {
      const db = transactionOf(scope);
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
