/** Every new order schedules its payment deadline: an orders.payment-due record, delivered when it is due. */
import { defineProcessor } from "../define.ts";
import { validOrder } from "../order-rules.ts";
import { domainSettings } from "../settings.ts";

export const schedulePaymentCheck = defineProcessor({
  name: "order-timeout",
  input: "orders.created",
  outputs: ["orders.payment-due"],
  delivery: "exactly-once",
  retryTiers: ["5s", "1m"],
  async handler(order, ctx) {
    const { orderId, createdAt } = validOrder(order.value);
    const dueAt = createdAt + BigInt(domainSettings().paymentTimeoutMs);
    await ctx.schedule("orders.payment-due", orderId, { orderId, createdAt, dueAt }, { at: Number(dueAt) });
  },
});
