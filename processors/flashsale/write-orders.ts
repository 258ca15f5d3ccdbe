/**
 * `flashsale-writer`: the steady writer behind a flash sale's gateway. It turns admitted purchases into
 * flash_sale_orders rows, in batches, idempotently (`ON CONFLICT DO NOTHING` on the purchase id, so a redelivered
 * or re-sent purchase writes nothing twice), and never faster than SLUICE_FLASHSALE_WRITE_RATE rows a second: the
 * burst waits in flashsale.purchases, not in the database. A purchase the business cannot have (no ids, a quantity
 * below one) goes to the DLQ instead of failing its batch.
 */
import type pg from "pg";
import { newPool, runtimeConfig, type SinkRecord, TokenBucket, ValidationError } from "../../runtime/index.ts";
import type { FlashSalePurchase } from "../../schemas/types.generated.ts";
import { defineSink } from "../define.ts";
import { domainSettings } from "../settings.ts";

const invalid = ({ value }: SinkRecord<FlashSalePurchase>) =>
  !value.purchaseId || !value.saleId || !value.userId || !(value.quantity >= 1)
    ? new ValidationError(`a flash-sale purchase needs ids and a quantity of one or more (${value.purchaseId})`)
    : undefined;

export function flashSaleWriter() {
  let db: pg.Pool | undefined;
  let bucket: TokenBucket | undefined;
  // A batch is a fifth of a second's worth: the bucket never holds more, so no second sees more than rate × 1.2.
  const batch = () => Math.max(1, Math.ceil(domainSettings().flashSaleWriteRate / 5));
  return defineSink({
    name: "flashsale-writer",
    input: "flashsale.purchases",
    batching: { maxRecords: batch(), linger: "20ms" },
    async open({ clock }) {
      db ??= newPool({ connectionString: runtimeConfig().databaseUrl, max: 2 });
      bucket ??= new TokenBucket(domainSettings().flashSaleWriteRate, batch(), clock.now());
    },
    async write(records, { clock, signal }) {
      const failures = records.flatMap((record, index) => {
        const error = invalid(record);
        return error ? [{ index, error }] : [];
      });
      const rows = records.filter((record) => !invalid(record)).map((r) => r.value);
      await bucket?.acquire(rows.length, clock, signal);
      if (rows.length > 0) {
        await db?.query(
          `INSERT INTO flash_sale_orders (purchase_id, sale_id, user_id, sku, quantity, requested_at, payment_due_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[],
                                $6::timestamptz[], $7::timestamptz[])
           ON CONFLICT (purchase_id) DO NOTHING`,
          [
            rows.map((r) => r.purchaseId),
            rows.map((r) => r.saleId),
            rows.map((r) => r.userId),
            rows.map((r) => r.sku),
            rows.map((r) => r.quantity),
            rows.map((r) => new Date(Number(r.requestedAt))),
            rows.map((r) => (r.paymentDueAt > 0n ? new Date(Number(r.paymentDueAt)) : null)),
          ],
        );
      }
      return { failures };
    },
    async close() {
      await db?.end();
      db = undefined;
    },
  });
}
