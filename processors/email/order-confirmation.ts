/** Every new order asks for a confirmation email on emails.outbound; the email id is derived from the order. */

import { defineProcessor } from "../define.ts";
import { validOrder } from "../order-rules.ts";

/** Cents as an amount with two decimals, exactly (a bigint never rounds). */
const amount = (cents: bigint) => `${cents / 100n}.${String(cents % 100n).padStart(2, "0")}`;

export const orderConfirmation = defineProcessor({
  name: "email",
  input: "orders.created",
  outputs: ["emails.outbound"],
  delivery: "exactly-once",
  async handler(order, ctx) {
    const { orderId, userId, totalCents, currency } = validOrder(order.value);
    const emailId = `order-confirmation:${orderId}`;
    await ctx.send("emails.outbound", emailId, {
      emailId,
      to: `${userId}@example.com`,
      template: "order-confirmation",
      orderId,
      variables: { total: `${amount(totalCents)} ${currency}` },
      requestedAt: BigInt(ctx.clock.now()),
    });
  },
});
