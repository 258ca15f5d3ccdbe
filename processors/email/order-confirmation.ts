/** Every new order asks for a confirmation email on emails.outbound; the email id is derived from the order. */
import { defineProcessor } from "../runtime/processor.ts";

export const orderConfirmation = defineProcessor({
  name: "email",
  group: "email",
  input: "orders.created",
  outputs: ["emails.outbound"],
  delivery: "exactly-once",
  retry: "non-blocking",
  keyConcurrency: 16,
  async handler(order, ctx) {
    const { orderId, userId, totalCents, currency } = order.value;
    const emailId = `order-confirmation:${orderId}`;
    await ctx.send("emails.outbound", emailId, {
      emailId,
      to: `${userId}@example.com`,
      template: "order-confirmation",
      orderId,
      variables: { total: `${(totalCents / 100).toFixed(2)} ${currency}` },
      requestedAt: ctx.clock.now(),
    });
  },
});
