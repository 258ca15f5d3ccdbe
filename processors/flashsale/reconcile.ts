/**
 * A flash sale's Redis state against the database's record of what sold (`sluice flashsale create|status|reconcile`).
 *
 * The database's PENDING and PAID orders hold their units. So does a reservation Redis has and the database not yet,
 * while its payment window is open: the writer, at its steady rate, may be behind. Past the window such a
 * reservation is a leak (a gateway that died before its purchase reached Kafka), and one whose order EXPIRED is a
 * release that did not happen: neither holds anything. Redis should then hold exactly those reservations, and
 * stock = units − their units. `reconcileSale` reports the difference and, unless told not to, makes Redis so.
 *
 * A Redis that lost the sale altogether (restarted without persistence) also lost the reservations the writer has
 * not written yet: the sale is restored only once the writer has no purchases left to write, so that the
 * database holds every one of them.
 */
import type pg from "pg";
import type { KafkaPort } from "../../runtime/index.ts";
import { SluiceError } from "../../topics/errors.ts";
import type { Reservation, Sale, SaleStore } from "./sale-store.ts";

export interface SaleCounts {
  sale: Sale;
  /** Redis. */
  stock: number;
  reserved: number;
  /** The database's orders, by status: units. */
  pending: number;
  paid: number;
  expired: number;
}

export interface Reconciliation extends SaleCounts {
  /** The stock Redis should have. */
  expectedStock: number;
  /** Reservations Redis has that the writer has not written yet (their window is open). */
  inFlight: number;
  /** Held by the database but missing from Redis. */
  missing: Reservation[];
  /** In Redis but holding nothing: leaked, or expired without their release. */
  extra: Reservation[];
  drift: boolean;
  repaired: boolean;
}

const PURCHASES = "flashsale.purchases";
const WRITER_GROUP = "flashsale-writer";

interface OrderRow {
  purchase_id: string;
  user_id: string;
  quantity: number;
  status: "PENDING" | "PAID" | "EXPIRED";
  requested_at: string;
}

/** Creates the sale in the database and in Redis (`sluice flashsale create`). */
export async function createSale(store: SaleStore, db: pg.Pool, sale: Sale): Promise<void> {
  const { rowCount } = await db.query(
    `INSERT INTO flash_sales (sale_id, sku, units, per_user_limit, starts_at, ends_at, payment_window_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sale_id) DO NOTHING`,
    [sale.saleId, sale.sku, sale.units, sale.perUser, new Date(sale.startsAt), new Date(sale.endsAt), sale.windowMs],
  );
  if (rowCount === 0) throw new SluiceError("USAGE", `flash sale ${sale.saleId} exists already`);
  await store.create(sale);
}

async function savedSale(db: pg.Pool, saleId: string): Promise<Sale | undefined> {
  const { rows } = await db.query(
    `SELECT sku, units, per_user_limit, payment_window_ms,
            (extract(epoch FROM starts_at) * 1000)::bigint AS starts_at, (extract(epoch FROM ends_at) * 1000)::bigint AS ends_at
     FROM flash_sales WHERE sale_id = $1`,
    [saleId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    saleId,
    sku: row.sku,
    units: row.units,
    perUser: row.per_user_limit,
    startsAt: Number(row.starts_at),
    endsAt: Number(row.ends_at),
    windowMs: Number(row.payment_window_ms),
  };
}

async function orders(db: pg.Pool, saleId: string): Promise<OrderRow[]> {
  const { rows } = await db.query<OrderRow>(
    `SELECT purchase_id, user_id, quantity, status, (extract(epoch FROM requested_at) * 1000)::bigint AS requested_at
     FROM flash_sale_orders WHERE sale_id = $1`,
    [saleId],
  );
  return rows;
}

/** Purchases on flashsale.purchases that the writer's group has not committed yet. */
export async function writerBacklog(kafka: KafkaPort): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.topicOffsets(PURCHASES);
    const committed = new Map(
      (await admin.committedOffsets(WRITER_GROUP, [PURCHASES])).map((c) => [c.partition, BigInt(c.offset)]),
    );
    return ends.reduce((sum, { partition, low, high }) => {
      const from = committed.get(partition) ?? -1n;
      return sum + Number(BigInt(high) - (from < 0n ? BigInt(low) : from));
    }, 0);
  } finally {
    await admin.disconnect();
  }
}

export async function reconcileSale(
  store: SaleStore,
  db: pg.Pool,
  kafka: KafkaPort,
  saleId: string,
  { repair = true, now = Date.now, waitMs = 60_000 }: { repair?: boolean; now?: () => number; waitMs?: number } = {},
): Promise<Reconciliation> {
  if (!(await store.sale(saleId))) {
    const saved = await savedSale(db, saleId);
    if (!saved) throw new SluiceError("USAGE", `no flash sale ${saleId}`);
    if (!repair) return compare({ sale: saved, stock: 0, reservations: new Map() }, await orders(db, saleId), now());
    const deadline = Date.now() + waitMs;
    for (let backlog = await writerBacklog(kafka); backlog > 0; backlog = await writerBacklog(kafka)) {
      if (Date.now() > deadline) {
        throw new SluiceError(
          "USAGE",
          `flash sale ${saleId} is lost from Redis and the writer has ${backlog} purchases to write: reconcile once it has`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await store.create(saved);
  }
  for (let attempt = 0; ; attempt++) {
    const snapshot = await store.snapshot(saleId);
    if (!snapshot) throw new SluiceError("USAGE", `no flash sale ${saleId}`);
    const result = compare(snapshot, await orders(db, saleId), now());
    if (!repair || !result.drift) return result;
    const held = [...snapshot.reservations.values()].filter((r) => !result.extra.includes(r));
    if (await store.replace(snapshot, [...held, ...result.missing])) return { ...result, repaired: true };
    if (attempt === 10) throw new SluiceError("USAGE", `flash sale ${saleId} kept changing: reconcile it once quieter`);
  }
}

function compare(
  { sale, stock, reservations }: { sale: Sale; stock: number; reservations: Map<string, Reservation> },
  rows: OrderRow[],
  now: number,
): Reconciliation {
  const units = (status: OrderRow["status"]) =>
    rows.filter((r) => r.status === status).reduce((sum, r) => sum + r.quantity, 0);
  const byId = new Map(rows.map((row) => [row.purchase_id, row]));
  const missing: Reservation[] = [];
  for (const row of rows) {
    if (row.status !== "EXPIRED" && !reservations.has(row.purchase_id)) {
      missing.push({
        purchaseId: row.purchase_id,
        userId: row.user_id,
        quantity: row.quantity,
        admittedAt: Number(row.requested_at),
      });
    }
  }
  const extra: Reservation[] = [];
  let inFlight = 0;
  for (const reservation of reservations.values()) {
    const row = byId.get(reservation.purchaseId);
    if (row?.status === "EXPIRED") extra.push(reservation);
    else if (!row && now >= reservation.admittedAt + sale.windowMs) extra.push(reservation);
    else if (!row) inFlight += reservation.quantity;
  }
  const reserved = [...reservations.values()].reduce((sum, r) => sum + r.quantity, 0);
  const held = units("PENDING") + units("PAID") + inFlight;
  const expectedStock = sale.units - held;
  return {
    sale,
    stock,
    reserved,
    pending: units("PENDING"),
    paid: units("PAID"),
    expired: units("EXPIRED"),
    expectedStock,
    inFlight,
    missing,
    extra,
    drift: stock !== expectedStock || missing.length > 0 || extra.length > 0,
    repaired: false,
  };
}
