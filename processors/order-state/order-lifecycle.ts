/**
 * Keeps each order's state, enforcing created → paid → shipped → completed (or created → cancelled).
 * A state that arrives ahead of its predecessor is a transient failure: with key-ordered retries it waits in
 * the tiers and the order's later states wait behind it, while other orders keep flowing. A repeated or older
 * state is a duplicate and is ignored; a transition the lifecycle forbids goes to the DLQ.
 */
import { PermanentError, RetryableError, transactionOf } from "../../runtime/index.ts";
import type { OrderState } from "../../schemas/types.generated.ts";
import { defineProcessor } from "../define.ts";

const NEXT: Record<OrderState, readonly OrderState[]> = {
  CREATED: ["PAID", "CANCELLED"],
  PAID: ["SHIPPED"],
  SHIPPED: ["COMPLETED"],
  COMPLETED: [],
  CANCELLED: [],
};
const RANK: Record<Exclude<OrderState, "CANCELLED">, number> = { CREATED: 0, PAID: 1, SHIPPED: 2, COMPLETED: 3 };

/** What a new state means after the current one: apply it, skip it as a duplicate, wait for the gap, or refuse. */
export function transition(
  current: OrderState | undefined,
  next: OrderState,
): "apply" | "duplicate" | "early" | "invalid" {
  if (current === undefined) return next === "CREATED" ? "apply" : "early";
  if (NEXT[current].includes(next)) return "apply";
  if (current === next) return "duplicate";
  if (current === "CANCELLED") return next === "CREATED" ? "duplicate" : "invalid";
  if (next === "CANCELLED") return "invalid";
  return RANK[next] < RANK[current] ? "duplicate" : "early";
}

export const orderLifecycle = defineProcessor({
  name: "order-state",
  input: "orders.state",
  retry: "key-ordered",
  retryTiers: ["1s", "10s", "1m"],
  ledger: "postgres",
  async handler(change, ctx) {
    const { orderId, state } = change.value;
    await ctx.once(`state:${change.headers["event-id"]}`, async (scope) => {
      const db = transactionOf(scope);
      const { rows } = await db.query<{ state: OrderState }>(
        "SELECT state FROM order_states WHERE order_id = $1 FOR UPDATE",
        [orderId],
      );
      const current = rows[0]?.state;
      const verdict = transition(current, state);
      if (verdict === "early")
        throw new RetryableError(`order ${orderId}: ${state} arrived while it is ${current ?? "unknown"}`);
      if (verdict === "invalid")
        throw new PermanentError(`order ${orderId}: ${current} → ${state} is not allowed`, "INVALID_TRANSITION");
      if (verdict === "apply") {
        await db.query(
          "INSERT INTO order_states (order_id, state) VALUES ($1, $2) ON CONFLICT (order_id) DO UPDATE SET state = $2, updated_at = now()",
          [orderId, state],
        );
      }
    });
  },
});
