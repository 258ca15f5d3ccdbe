/**
 * A flash sale under load, for the integration tests and the bench: a sale created in the database and Redis, and
 * a burst of purchase attempts sent to a gateway by autocannon, each from one of `users` users with a request id
 * of its own, every answer counted.
 */
import { randomUUID } from "node:crypto";
import autocannon from "autocannon";
import type pg from "pg";
import { createSale } from "../../processors/flashsale/reconcile.ts";
import { type Sale, SaleStore } from "../../processors/flashsale/sale-store.ts";
import { runtimeConfig } from "../../runtime/index.ts";

export interface BurstResult {
  /** Answers by status and code, e.g. "202", "409 SOLD_OUT", "429". */
  answers: Map<string, number>;
  /** The reservation ids of the 202s. */
  reservations: string[];
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}

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

/** Sends `attempts` purchase attempts for one unit each, over `connections` connections, as fast as they go. */
export async function burst(
  url: string,
  sale: Sale,
  { attempts, users, connections = 100 }: { attempts: number; users: number; connections?: number },
): Promise<BurstResult> {
  const answers = new Map<string, number>();
  const reservations: string[] = [];
  const run = randomUUID().slice(0, 8);
  let sent = 0;
  const result = await autocannon({
    url,
    connections,
    amount: attempts,
    requests: [
      {
        method: "POST",
        path: `/flash-sales/${sale.saleId}/purchases`,
        headers: { "content-type": "application/json" },
        setupRequest: (request) => {
          const n = sent++;
          const body = { userId: `user-${n % users}`, sku: sale.sku, quantity: 1, requestId: `${run}-${n}` };
          return { ...request, body: JSON.stringify(body) };
        },
        onResponse: (status, body) => {
          const parsed = JSON.parse(body) as { code?: string; reservationId?: string };
          if (parsed.reservationId) reservations.push(parsed.reservationId);
          const answer = parsed.code && status !== 429 ? `${status} ${parsed.code}` : String(status);
          answers.set(answer, (answers.get(answer) ?? 0) + 1);
        },
      },
    ],
  });
  return {
    answers,
    reservations,
    seconds: result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
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
