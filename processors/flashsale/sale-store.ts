/**
 * A flash sale's live state in Redis, changed only by Lua scripts, each atomic:
 * - `flashsale:{id}:sale`         hash: sku, units, perUser, startsAt, endsAt, windowMs (as `create` set them)
 * - `flashsale:{id}:stock`        the units not reserved
 * - `flashsale:{id}:users`        hash: userId → units the user holds
 * - `flashsale:{id}:reservations` hash: purchaseId → "userId|quantity|admittedAt"
 * Invariant: stock + the reservations' units = units. A purchase id is derived from the sale and the request id, so
 * a retried request finds its reservation instead of taking a second one. The braces keep a sale's keys in one
 * Redis Cluster slot.
 */
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { SluiceError } from "../../topics/errors.ts";

export interface Sale {
  saleId: string;
  sku: string;
  units: number;
  perUser: number;
  startsAt: number;
  endsAt: number;
  windowMs: number;
}

export interface Reservation {
  purchaseId: string;
  userId: string;
  quantity: number;
  admittedAt: number;
}

export type Admission =
  /** A DUPLICATE is a request admitted before: `admittedAt` is the first admission's. */
  | { outcome: "ACCEPTED" | "DUPLICATE"; purchaseId: string; admittedAt: number; sale: Sale }
  /** LOST: Redis no longer has a sale it had (restarted without its data): `reconcile` restores it. */
  | { outcome: "SOLD_OUT" | "USER_LIMIT" | "NOT_OPEN" | "NO_SALE" | "LOST" };

export interface SaleSnapshot {
  sale: Sale;
  stock: number;
  reservations: Map<string, Reservation>;
}

const keys = (saleId: string) => {
  const base = `flashsale:{${saleId}}`;
  return [`${base}:sale`, `${base}:stock`, `${base}:users`, `${base}:reservations`];
};

/** The reservation id of a request: the same request id always gives the same one. */
export const purchaseIdOf = (saleId: string, requestId: string) =>
  `fsp-${createHash("sha256").update(`${saleId}\n${requestId}`).digest("hex").slice(0, 24)}`;

const ADMIT = `
local sale = redis.call('HMGET', KEYS[1], 'startsAt', 'endsAt', 'perUser')
if not sale[1] then return {'NO_SALE'} end
local now, quantity = tonumber(ARGV[4]), tonumber(ARGV[3])
if now < tonumber(sale[1]) or now >= tonumber(sale[2]) then return {'NOT_OPEN'} end
local existing = redis.call('HGET', KEYS[4], ARGV[1])
if existing then return {'DUPLICATE', string.match(existing, '|(%d+)$')} end
local held = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')
if held + quantity > tonumber(sale[3]) then return {'USER_LIMIT'} end
local stock = tonumber(redis.call('GET', KEYS[2]) or '0')
if stock < quantity then return {'SOLD_OUT'} end
redis.call('DECRBY', KEYS[2], quantity)
redis.call('HINCRBY', KEYS[3], ARGV[2], quantity)
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[4])
return {'ACCEPTED', ARGV[4]}
`;

/** Gives a reservation's units back; returns them (0 for a reservation already gone, so it runs any number of times). */
const RELEASE = `
local reservation = redis.call('HGET', KEYS[4], ARGV[1])
if not reservation then return 0 end
local userId, quantity = string.match(reservation, '^(.*)|(%d+)|%d+$')
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('INCRBY', KEYS[2], quantity)
if redis.call('HINCRBY', KEYS[3], userId, -tonumber(quantity)) <= 0 then redis.call('HDEL', KEYS[3], userId) end
return tonumber(quantity)
`;

type SaleRedis = Redis & {
  flashAdmit(...args: (string | number)[]): Promise<string[]>;
  flashRelease(...args: string[]): Promise<number>;
};

export class SaleStore {
  readonly redis: SaleRedis;
  /** Each sale as read from Redis, for the gateway's answers (a sale's settings never change once created). */
  private readonly sales = new Map<string, Sale>();

  /**
   * `failFast`: commands fail at once while Redis is unreachable instead of queueing until it is back (a gateway
   * answers 503 rather than hold requests).
   */
  constructor(redisUrl: string, options: { failFast?: boolean } = {}) {
    this.redis = new Redis(redisUrl, {
      lazyConnect: true,
      ...(options.failFast ? { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1_000 } : {}),
    }) as SaleRedis;
    this.redis.on("error", () => {}); // unreachable: each command fails and says so
    this.redis.defineCommand("flashAdmit", { numberOfKeys: 4, lua: ADMIT });
    this.redis.defineCommand("flashRelease", { numberOfKeys: 4, lua: RELEASE });
  }

  async connect(): Promise<void> {
    await this.redis.connect().catch(() => {}); // reconnects by itself; commands say when it is out of reach
  }

  close(): Promise<unknown> {
    return this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** Creates the sale with all its units in stock; refused if a sale of that id exists. */
  async create(sale: Sale): Promise<void> {
    const [saleKey, stockKey] = keys(sale.saleId);
    const created = await this.redis.hsetnx(saleKey as string, "sku", sale.sku);
    if (!created) throw new SluiceError("USAGE", `flash sale ${sale.saleId} exists already`);
    await this.redis
      .multi()
      .hset(saleKey as string, {
        units: sale.units,
        perUser: sale.perUser,
        startsAt: sale.startsAt,
        endsAt: sale.endsAt,
        windowMs: sale.windowMs,
      })
      .set(stockKey as string, sale.units)
      .exec();
  }

  async sale(saleId: string): Promise<Sale | undefined> {
    const known = this.sales.get(saleId);
    if (known) return known;
    const fields = await this.redis.hgetall(keys(saleId)[0] as string);
    if (!fields.sku) return undefined;
    const sale: Sale = {
      saleId,
      sku: fields.sku,
      units: Number(fields.units),
      perUser: Number(fields.perUser),
      startsAt: Number(fields.startsAt),
      endsAt: Number(fields.endsAt),
      windowMs: Number(fields.windowMs),
    };
    this.sales.set(saleId, sale);
    return sale;
  }

  async admit(saleId: string, requestId: string, userId: string, quantity: number, now: number): Promise<Admission> {
    const purchaseId = purchaseIdOf(saleId, requestId);
    const [outcome, admittedAt] = await this.redis.flashAdmit(...keys(saleId), purchaseId, userId, quantity, now);
    if (outcome === "NO_SALE" && this.sales.has(saleId)) return { outcome: "LOST" };
    if (outcome !== "ACCEPTED" && outcome !== "DUPLICATE") return { outcome: outcome as "SOLD_OUT" };
    const sale = await this.sale(saleId);
    if (!sale) return { outcome: "NO_SALE" };
    return { outcome, purchaseId, admittedAt: Number(admittedAt), sale };
  }

  /** Gives a reservation's units back to the stock; 0 if it was released already. */
  release(saleId: string, purchaseId: string): Promise<number> {
    return this.redis.flashRelease(...keys(saleId), purchaseId);
  }

  async snapshot(saleId: string): Promise<SaleSnapshot | undefined> {
    const sale = await this.sale(saleId);
    if (!sale) return undefined;
    const [, stockKey, , reservationsKey] = keys(saleId);
    const [stock, fields] = await Promise.all([
      this.redis.get(stockKey as string),
      this.redis.hgetall(reservationsKey as string),
    ]);
    const reservations = new Map<string, Reservation>();
    for (const [purchaseId, text] of Object.entries(fields)) {
      const [, userId = "", quantity, admittedAt] = /^(.*)\|(\d+)\|(\d+)$/.exec(text) ?? [];
      reservations.set(purchaseId, { purchaseId, userId, quantity: Number(quantity), admittedAt: Number(admittedAt) });
    }
    return { sale, stock: Number(stock ?? 0), reservations };
  }

  /**
   * Replaces stock, reservations and per-user counts with `reservations` (stock = units − their units), unless a
   * purchase was admitted or released since `seen` was read: then false, and the caller reads again.
   */
  async replace(seen: SaleSnapshot, reservations: Reservation[]): Promise<boolean> {
    const [, stockKey, usersKey, reservationsKey] = keys(seen.sale.saleId) as [string, string, string, string];
    await this.redis.watch(stockKey, reservationsKey);
    const current = await this.snapshot(seen.sale.saleId);
    if (current?.stock !== seen.stock || current.reservations.size !== seen.reservations.size) {
      await this.redis.unwatch();
      return false;
    }
    const users = new Map<string, number>();
    for (const r of reservations) users.set(r.userId, (users.get(r.userId) ?? 0) + r.quantity);
    const held = reservations.reduce((sum, r) => sum + r.quantity, 0);
    const tx = this.redis
      .multi()
      .set(stockKey, seen.sale.units - held)
      .del(usersKey, reservationsKey);
    if (users.size > 0) tx.hset(usersKey, Object.fromEntries(users));
    if (reservations.length > 0) {
      tx.hset(
        reservationsKey,
        Object.fromEntries(reservations.map((r) => [r.purchaseId, `${r.userId}|${r.quantity}|${r.admittedAt}`])),
      );
    }
    return (await tx.exec()) !== null;
  }
}
