/**
 * An unpaid flash-sale reservation expires the way an unpaid order does (processors/order-timeout): each admitted
 * purchase schedules its payment deadline on flashsale.payment-due through the delay tiers; at the deadline a
 * reservation still PENDING becomes EXPIRED and its units go back to the sale's stock in Redis. Both steps are
 * idempotent (the release gives units back only while the reservation is there), so a redelivery changes nothing.
 */
import type pg from "pg";
import { newPool, RetryableError, runtimeConfig } from "../../runtime/index.ts";
import { defineProcessor } from "../define.ts";
import { SaleStore } from "./sale-store.ts";

export const scheduleReservationExpiry = defineProcessor({
  name: "flashsale-expiry",
  input: "flashsale.purchases",
  outputs: ["flashsale.payment-due"],
  delivery: "exactly-once",
  retryTiers: ["5s", "1m"],
  async handler({ value }, ctx) {
    const { purchaseId, saleId, paymentDueAt } = value;
    if (paymentDueAt <= 0n) return; // a sale without a payment window
    await ctx.schedule(
      "flashsale.payment-due",
      purchaseId,
      { purchaseId, saleId, dueAt: paymentDueAt },
      {
        at: Number(paymentDueAt),
      },
    );
  },
});

let db: pg.Pool | undefined;
let store: SaleStore | undefined;

export const expireReservation = defineProcessor({
  name: "flashsale-expiry-check",
  input: "flashsale.payment-due",
  // The writer may be behind the deadline (it writes at a steady rate): the check waits for its row.
  retryTiers: ["5s", "30s", "2m", "10m"],
  async handler({ value }, ctx) {
    const { purchaseId, saleId } = value;
    db ??= newPool({ connectionString: runtimeConfig().databaseUrl, max: 2 });
    const { rows } = await db.query<{ status: string }>(
      `UPDATE flash_sale_orders SET status = CASE WHEN status = 'PAID' THEN status ELSE 'EXPIRED' END
       WHERE purchase_id = $1 RETURNING status`,
      [purchaseId],
    );
    const status = rows[0]?.status;
    if (!status) throw new RetryableError(`flash-sale purchase ${purchaseId} is not written yet`, "NOT_WRITTEN_YET");
    if (status === "PAID") return;
    store ??= new SaleStore(runtimeConfig().redisUrl); // connects on its first command
    const units = await store.release(saleId, purchaseId);
    if (units > 0)
      ctx.log.info({ "flashsale.sale": saleId, "flashsale.purchase": purchaseId, units }, "reservation expired");
  },
});
