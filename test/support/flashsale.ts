/**
 * A flash sale for the integration tests and the bench: created in the database and Redis, and its orders as the
 * writer wrote them. The burst of purchase attempts is the demo's (ops/demo/flashsale-burst.ts).
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { createSale } from "../../processors/flashsale/reconcile.ts";
import { type Sale, SaleStore } from "../../processors/flashsale/sale-store.ts";
import { runtimeConfig } from "../../runtime/index.ts";

export { type BurstResult, burst } from "../../ops/demo/flashsale-burst.ts";

export async function createTestSale(
  db: pg.Pool,
  options: Partial<Sale> & Pick<Sale, "units" | "perUser">,
): Promise<Sale> {
  const sale: Sale = {
    saleId: `sale-${randomUUID().slice(0, 8)}`,
    sku: "sku-flash",
    startsAt: Date.now() - 1_000,
    endsAt: Date.now() + 3_600_000,
    windowMs: 3_600_000,
    ...options,
  };
  const store = new SaleStore(runtimeConfig().redisUrl);
  await store.connect();
  await createSale(store, db, sale).finally(() => store.close());
  return sale;
}

/** The sale's orders as the writer wrote them. */
export async function saleOrders(db: pg.Pool, saleId: string) {
  const { rows } = await db.query<{
    purchase_id: string;
    user_id: string;
    quantity: number;
    status: string;
    written: string;
  }>(
    `SELECT purchase_id, user_id, quantity, status, (extract(epoch FROM written_at) * 1000)::bigint AS written
     FROM flash_sale_orders WHERE sale_id = $1 ORDER BY written_at`,
    [saleId],
  );
  return rows;
}
