/**
 * Transactional stock deduction. Each new order reserves its items: the stock updates, the reservation rows and
 * the ledger entry commit in one PostgreSQL transaction (ctx.once, keyed by orderId), and the inventory.changes
 * events go out in the Kafka transaction that commits the order's offset. A crash anywhere leaves either
 * nothing or everything, and a redelivered order finds its reservation done and re-emits the same events.
 *
 * Stock never goes below zero. An item there is not enough of ends the reservation, and the order is compensated
 * through events: it is cancelled (orders.cancelled, OUT_OF_STOCK, and the CANCELLED state), the items reserved
 * before it are released by inventory-restore, the one path every cancellation takes, and the customer is told
 * (emails.outbound). The decision is remembered with the ledger entry, so a redelivery sends the same records.
 */
import { transactionOf } from "../../runtime/index.ts";
import type { OrderItem } from "../../schemas/types.generated.ts";
import { defineProcessor } from "../define.ts";
import { validOrder } from "../order-rules.ts";
import { domainSettings } from "../settings.ts";

interface Reservation {
  reserved: { sku: string; quantity: number }[];
  /** The item there was not enough of, if any. */
  short?: { sku: string; quantity: number; available: number };
}

export const reserveStock = defineProcessor({
  name: "inventory",
  input: "orders.created",
  outputs: ["inventory.changes", "orders.cancelled", "orders.state", "emails.outbound"],
  delivery: "exactly-once",
  retryTiers: ["5s", "1m"],
  ledger: "postgres",
  async handler(order, ctx) {
    const { orderId, userId, items } = validOrder(order.value);
    const outcome = await ctx.once(`reserve:${orderId}`, async (scope): Promise<Reservation> => {
      const db = transactionOf(scope);
      const reserved: Reservation["reserved"] = [];
      for (const item of bySku(items)) {
        const available = await lockedStock(db, item);
        if (available < item.quantity)
          return { reserved, short: { sku: item.sku, quantity: item.quantity, available } };
        await db.query("UPDATE stock SET quantity = quantity - $2 WHERE sku = $1", [item.sku, item.quantity]);
        await db.query("INSERT INTO stock_reservations (order_id, sku, quantity) VALUES ($1, $2, $3)", [
          orderId,
          item.sku,
          item.quantity,
        ]);
        reserved.push({ sku: item.sku, quantity: item.quantity });
      }
      return { reserved };
    });
    const now = BigInt(ctx.clock.now());
    for (const item of outcome?.reserved ?? []) {
      await ctx.send("inventory.changes", item.sku, {
        sku: item.sku,
        delta: -item.quantity,
        reason: "ORDER_RESERVED",
        orderId,
        changedAt: now,
      });
    }
    const short = outcome?.short;
    if (!short) return;
    await ctx.send("orders.cancelled", orderId, { orderId, reason: "OUT_OF_STOCK", cancelledAt: now });
    await ctx.send("orders.state", orderId, { orderId, state: "CANCELLED", changedAt: now });
    const emailId = `order-out-of-stock:${orderId}`;
    await ctx.send("emails.outbound", emailId, {
      emailId,
      to: `${userId}@example.com`,
      template: "order-out-of-stock",
      orderId,
      variables: { sku: short.sku, requested: String(short.quantity), available: String(short.available) },
      requestedAt: now,
    });
    ctx.log.info({ "order.id": orderId, sku: short.sku, available: short.available }, "order refused: out of stock");
  },
});

/** One item per SKU (quantities summed), in SKU order: concurrent orders lock shared SKUs in the same order. */
function bySku(items: readonly OrderItem[]): OrderItem[] {
  const merged = new Map<string, OrderItem>();
  for (const item of items) {
    const seen = merged.get(item.sku);
    merged.set(item.sku, seen ? { ...seen, quantity: seen.quantity + item.quantity } : item);
  }
  return [...merged.values()].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/** The item's stock, its row locked until the transaction ends; a SKU seen for the first time gets the initial stock. */
async function lockedStock(db: ReturnType<typeof transactionOf>, item: OrderItem): Promise<number> {
  await db.query("INSERT INTO stock (sku, quantity) VALUES ($1, $2) ON CONFLICT (sku) DO NOTHING", [
    item.sku,
    domainSettings().initialStock,
  ]);
  const { rows } = await db.query<{ quantity: number }>("SELECT quantity FROM stock WHERE sku = $1 FOR UPDATE", [
    item.sku,
  ]);
  return rows[0]?.quantity ?? 0;
}
