/**
 * `sluice flashsale create|status|reconcile <saleId>`: a flash sale's setup, its figures, and its Redis state made
 * to agree with the database's record of what sold (processors/flashsale/reconcile.ts).
 */
import { createSale, type Reconciliation, reconcileSale } from "../../../processors/flashsale/reconcile.ts";
import { SaleStore } from "../../../processors/flashsale/sale-store.ts";
import { MIGRATIONS } from "../../../processors/registry.ts";
import { librdkafka, migrate, newPool, runtimeConfig } from "../../../runtime/index.ts";
import { UsageError } from "../../../topics/errors.ts";
import { duration, parse, positiveInteger } from "../args.ts";

const USAGE = `usage: sluice flashsale create <saleId> --sku SKU --units N [--per-user N] [--starts-in 0s] [--lasts 1h]
                                 [--payment-window 15m]
       sluice flashsale status <saleId>
       sluice flashsale reconcile <saleId> [--dry-run]`;

export async function flashsaleCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("flashsale", args, {
    sku: { type: "string" },
    units: { type: "string" },
    "per-user": { type: "string" },
    "starts-in": { type: "string" },
    lasts: { type: "string" },
    "payment-window": { type: "string" },
    "dry-run": { type: "boolean" },
  });
  const [action, saleId, extra] = positionals;
  if (!saleId || extra !== undefined || !["create", "status", "reconcile"].includes(action ?? "")) {
    throw new UsageError(USAGE);
  }
  const config = runtimeConfig();
  const db = newPool({ connectionString: config.databaseUrl, max: 2 });
  const store = new SaleStore(config.redisUrl, { failFast: true });
  try {
    await migrate(db, [MIGRATIONS]);
    await store.connect();
    if (action === "create") {
      const units = positiveInteger("flashsale", "--units", values.units);
      if (!values.sku || !units) throw new UsageError(`flashsale create needs --sku and --units\n${USAGE}`);
      const startsAt = Date.now() + (duration("flashsale", "--starts-in", values["starts-in"]) ?? 0);
      const sale = {
        saleId,
        sku: values.sku,
        units,
        perUser: positiveInteger("flashsale", "--per-user", values["per-user"]) ?? 1,
        startsAt,
        endsAt: startsAt + (duration("flashsale", "--lasts", values.lasts) ?? 3_600_000),
        windowMs: duration("flashsale", "--payment-window", values["payment-window"]) ?? 900_000,
      };
      await createSale(store, db, sale);
      console.log(
        `flash sale ${saleId}: ${units} × ${sale.sku}, ${sale.perUser} a user, ` +
          `${new Date(sale.startsAt).toISOString()} to ${new Date(sale.endsAt).toISOString()}, ` +
          `payment within ${sale.windowMs / 1000}s`,
      );
      return 0;
    }
    const kafka = librdkafka({ brokers: config.kafkaBrokers, clientId: "sluice-flashsale" });
    const repair = action === "reconcile" && !values["dry-run"];
    const result = await reconcileSale(store, db, kafka, saleId, { repair });
    console.log(describe(result));
    if (action === "status") return 0;
    return result.drift && !result.repaired ? 1 : 0;
  } finally {
    await store.close();
    await db.end();
  }
}

function describe(r: Reconciliation): string {
  const lines = [
    `flash sale ${r.sale.saleId}: ${r.sale.units} units of ${r.sale.sku}`,
    `  redis:    ${r.stock} remaining, ${r.reserved} reserved`,
    `  database: ${r.paid} paid, ${r.pending} pending, ${r.expired} expired; ${r.inFlight} admitted, not written yet`,
  ];
  if (!r.drift) return [...lines, "  no drift"].join("\n");
  lines.push(
    `  drift:    remaining should be ${r.expectedStock} (is ${r.stock}); ` +
      `${r.missing.length} reservations missing from Redis, ${r.extra.length} holding nothing`,
  );
  lines.push(r.repaired ? "  repaired: Redis now agrees with the database" : "  not repaired");
  return lines.join("\n");
}
