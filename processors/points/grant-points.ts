/**
 * Loyalty points for every order: one row per order event in the points ledger, however often it is delivered.
 * One point per whole currency unit, times the broadcast `points.multiplier` (a campaign: `sluice config set
 * points.multiplier 2`) as this node holds it when the order is handled; a value that is not a whole number from 1
 * to 10 counts as 1, with a warning, rather than failing orders.
 */
import { HEADER, transactionOf } from "../../runtime/index.ts";
import { defineProcessor } from "../define.ts";
import { validOrder } from "../order-rules.ts";

export const POINTS_MULTIPLIER = "points.multiplier";

export const grantPoints = defineProcessor({
  name: "points",
  input: "orders.created",
  ledger: "postgres",
  async handler(order, ctx) {
    const { orderId, userId, totalCents } = validOrder(order.value);
    const eventId = order.headers[HEADER.eventId] ?? "";
    const setting = ctx.config.get(POINTS_MULTIPLIER);
    const multiplier = setting === undefined ? 1 : /^([1-9]|10)$/.test(setting) ? Number(setting) : undefined;
    if (multiplier === undefined) ctx.log.warn({ "config.key": POINTS_MULTIPLIER, setting }, "not 1-10: counted as 1");
    await ctx.once(`points:${eventId}`, async (scope) => {
      const db = transactionOf(scope);
      await db.query("INSERT INTO points_ledger (event_id, user_id, order_id, points) VALUES ($1, $2, $3, $4)", [
        eventId,
        userId,
        orderId,
        // The column's range is the database's to enforce.
        (totalCents / 100n) * BigInt(multiplier ?? 1),
      ]);
    });
  },
});
