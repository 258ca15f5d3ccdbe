/**
 * The flash sale of the README's run command: a sale of 50 consoles, one a customer, ten seconds to pay; a burst of
 * 3,000 attempts from 600 customers at the gateway (`sluice serve flashsale`, :9430); 30 of the winners pay. The
 * writer writes the 50 orders at its steady pace (the demo sets 20 a second); the 20 unpaid reservations expire
 * after ten seconds and their units go back to the sale (run.sh shows `sluice flashsale status` afterwards). The
 * sale's id is written to .sluice/run/demo-sale for it.
 */
import { writeFileSync } from "node:fs";
import pg from "pg";
import { createSale } from "../../processors/flashsale/reconcile.ts";
import { SaleStore } from "../../processors/flashsale/sale-store.ts";
import { runtimeConfig } from "../../runtime/index.ts";
import { burst } from "./flashsale-burst.ts";

const GATEWAY = process.env.SLUICE_FLASHSALE_URL || "http://127.0.0.1:9430";
const UNITS = 50;
const PAYING = 30;

const config = runtimeConfig();
const db = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
const store = new SaleStore(config.redisUrl);
await store.connect();
const now = Date.now();
const sale = {
  saleId: `flash-${now.toString(36)}`,
  sku: "sku-console",
  units: UNITS,
  perUser: 1,
  startsAt: now,
  endsAt: now + 3_600_000,
  windowMs: 10_000,
};
await createSale(store, db, sale);
writeFileSync(".sluice/run/demo-sale", sale.saleId);

const result = await burst(GATEWAY, sale, { attempts: 3_000, users: 600, connections: 50 });
const answers = [...result.answers].map(([answer, n]) => `${n} × ${answer}`).join(", ");
console.log(
  `[flashsale] ${sale.saleId}: 3,000 attempts from 600 customers for ${UNITS} units in ${result.seconds.toFixed(1)}s ` +
    `(gateway p99 ${result.p99Ms} ms): ${answers}`,
);

// Pay for the first 30 once the writer has written them (it keeps its pace, so a payment may have to wait).
const paying = result.reservations.slice(0, PAYING);
for (const reservation of paying) {
  const url = `${GATEWAY}/flash-sales/${sale.saleId}/purchases/${reservation}/payment`;
  for (let tries = 0; tries < 100; tries++) {
    if ((await fetch(url, { method: "POST" })).status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
const writtenAll = async () =>
  (await db.query("SELECT 1 FROM flash_sale_orders WHERE sale_id = $1", [sale.saleId])).rowCount === UNITS;
for (let tries = 0; tries < 100 && !(await writtenAll()); tries++) await new Promise((r) => setTimeout(r, 200));
const { rows } = await db.query<{ n: number; paid: number; seconds: number }>(
  `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'PAID')::int AS paid,
          extract(epoch FROM max(written_at) - min(written_at))::float AS seconds
   FROM flash_sale_orders WHERE sale_id = $1`,
  [sale.saleId],
);
const written = rows[0];
console.log(
  `[flashsale] flashsale-writer wrote ${written?.n} orders over ${written?.seconds.toFixed(1)}s ` +
    `(at most SLUICE_FLASHSALE_WRITE_RATE a second); ${written?.paid} paid, the other ${UNITS - PAYING} expire unpaid after 10s`,
);
await store.close();
await db.end();
