/** Every new order schedules its payment deadline: an orders.payment-due record, delivered when it is due. */
import { toMs } from "../../topics/duration.ts";
import { validOrder } from "../order-rules.ts";
import { defineProcessor } from "../runtime/processor.ts";

/** How long a customer has to pay; SLUICE_ORDER_TIMEOUT=10s for the demo. */
export const paymentTimeoutMs = () => toMs(process.env.SLUICE_ORDER_TIMEOUT || "30m");

export const schedulePaymentCheck = defineProcessor({
  name: "order-timeout",
  group: "order-timeout",
  input: "orders.created",
  outputs: ["orders.payment-due"],
  delivery: "exactly-once",
  retry: "non-blocking",
  keyConcurrency: 16,
  async handler(order, ctx) {
    const { orderId, createdAt } = validOrder(order.value);
    const dueAt = createdAt + BigInt(paymentTimeoutMs());
    await ctx.schedule("orders.payment-due", orderId, { orderId, createdAt, dueAt }, { at: Number(dueAt) });
  },
});
