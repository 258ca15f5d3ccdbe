/**
 * Every new order asks for a confirmation email on emails.outbound, to the address the user directory has for its
 * user (the email id is derived from the order). An order can arrive before its user does (the user service's
 * change is still on its way): it then waits in the retry tiers until the directory has the user, instead of
 * going to the DLQ. A deleted user, or one without an address, gets no email.
 */

import { defineProcessor } from "../define.ts";
import { validOrder } from "../order-rules.ts";
import { emailAddressOf } from "../user-directory/directory.ts";

/** Cents as an amount with two decimals, exactly (a bigint never rounds). */
const amount = (cents: bigint) => `${cents / 100n}.${String(cents % 100n).padStart(2, "0")}`;

export const orderConfirmation = defineProcessor({
  name: "email",
  input: "orders.created",
  outputs: ["emails.outbound"],
  delivery: "exactly-once",
  retryTiers: ["5s", "30s", "2m", "10m"],
  async handler(order, ctx) {
    const { orderId, userId, totalCents, currency } = validOrder(order.value);
    const to = await emailAddressOf(userId, `order ${orderId}`);
    if (!to) {
      ctx.log.info({ "order.id": orderId, "user.id": userId }, "no confirmation email: the user has no address");
      return;
    }
    const emailId = `order-confirmation:${orderId}`;
    await ctx.send("emails.outbound", emailId, {
      emailId,
      to,
      template: "order-confirmation",
      orderId,
      variables: { total: `${amount(totalCents)} ${currency}` },
      requestedAt: BigInt(ctx.clock.now()),
    });
  },
});
