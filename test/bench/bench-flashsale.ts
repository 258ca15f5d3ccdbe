/**
 * The flash sale, each figure beside its ceiling in the same run:
 *
 *   flashsale_admitted_rps      purchase attempts the gateway answers a second (its token bucket set out of the way),
 *                               100,000 attempts from 20,000 users for 1,000 units, in one burst
 *   flashsale_gateway_p50_ms, _p99_ms  the gateway's answer latency during that burst (autocannon, 100 connections)
 *   redis_lua_ceiling_rps       the same 100,000 admissions through the same Lua script from a raw client loop (100 in
 *                               flight), no HTTP, no Kafka: what Redis allows the gateway at most
 *   flashsale_oversold          units written to the database beyond the sale's (must be 0)
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { SaleStore } from "../../processors/flashsale/sale-store.ts";
import { runtimeConfig } from "../../runtime/index.ts";
import { burst, createTestSale, saleOrders } from "../support/flashsale.ts";
import { eventually } from "../support/runtime.ts";
import { killChildren, startService } from "../support/services.ts";
import { killStrays, startSluiceRun } from "../support/sluice-run.ts";

const ATTEMPTS = 100_000;
const USERS = 20_000;
const UNITS = 1_000;

export interface FlashSaleFigures {
  flashsale_attempts: number;
  flashsale_admitted_rps: number;
  flashsale_gateway_p50_ms: number;
  flashsale_gateway_p99_ms: number;
  redis_lua_ceiling_rps: number;
  flashsale_oversold: number;
  ratios: { gateway_vs_redis_lua: number };
}

export async function benchFlashSale(log: (line: string) => void): Promise<FlashSaleFigures> {
  const db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl, max: 2 });
  const store = new SaleStore(runtimeConfig().redisUrl);
  await store.connect();
  try {
    // The ceiling: the Lua script alone, 100 admissions in flight, the same mix of outcomes as the burst's.
    const raw = await createTestSale(db, { units: UNITS, perUser: 1 });
    const run = randomUUID().slice(0, 8);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        for (let n = next++; n < ATTEMPTS; n = next++) {
          await store.admit(raw.saleId, `${run}-${n}`, `user-${n % USERS}`, 1, Date.now());
        }
      }),
    );
    const luaRps = ATTEMPTS / ((performance.now() - started) / 1_000);
    log(`  redis Lua admission loop: ${luaRps.toFixed(0)}/s`);

    const writer = startSluiceRun(["flashsale-writer"], { SLUICE_FLASHSALE_WRITE_RATE: "2000" });
    const gateway = await startService("flashsale", { SLUICE_FLASHSALE_RATE: "1000000" });
    await writer.ready();
    const sale = await createTestSale(db, { units: UNITS, perUser: 1 });
    const result = await burst(gateway.url, sale, { attempts: ATTEMPTS, users: USERS });
    const admittedRps = ATTEMPTS / result.seconds;
    log(
      `  gateway: ${admittedRps.toFixed(0)} answers/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms; ` +
        JSON.stringify(Object.fromEntries(result.answers)),
    );
    const reserved = result.reservations.length;
    await eventually(async () => (await saleOrders(db, sale.saleId)).length >= reserved, 60_000);
    const sold = (await saleOrders(db, sale.saleId)).reduce((sum, o) => sum + o.quantity, 0);
    return {
      flashsale_attempts: ATTEMPTS,
      flashsale_admitted_rps: Math.round(admittedRps),
      flashsale_gateway_p50_ms: result.p50Ms,
      flashsale_gateway_p99_ms: result.p99Ms,
      redis_lua_ceiling_rps: Math.round(luaRps),
      flashsale_oversold: Math.max(0, sold - UNITS),
      ratios: { gateway_vs_redis_lua: Number((admittedRps / luaRps).toFixed(2)) },
    };
  } finally {
    killChildren();
    await killStrays();
    await store.close();
    await db.end();
  }
}
