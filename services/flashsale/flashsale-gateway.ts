/**
 * The flash-sale gateway: takes a burst of purchase attempts far beyond what the database could write, admits
 * exactly as many units as the sale has, and queues the admitted purchases on flashsale.purchases for the steady
 * writer (processors/flashsale/write-orders.ts). In order, cheapest first:
 * 1. a token bucket (SLUICE_FLASHSALE_RATE a second, SLUICE_FLASHSALE_BURST saved up): beyond it, 429 and
 *    `Retry-After`;
 * 2. a sold-out flag held in the process for a second after Redis last said so: 409 without asking Redis;
 * 3. one Redis Lua script (processors/flashsale/sale-store.ts) that checks the sale's window and the user's limit,
 *    takes the units only if enough remain, and records the reservation under an id derived from the request id,
 *    so a retried request finds its reservation instead of taking a second one;
 * 4. the purchase, produced (acks=all, idempotent), then 202 with the reservation id.
 * Redis out of reach fails closed (503): nothing is admitted blind; so does a Redis that came back without the sale,
 * until `sluice flashsale reconcile` restores it from the database. Kafka out of reach after an admission is a 503
 * too, and the reservation stays: the client retries with its request id (its reservation is found and produced
 * again), and `sluice flashsale reconcile` gives back one never retried once its payment window has passed.
 * `POST /flash-sales/:saleId/purchases/:purchaseId/payment` pays a reservation the writer has written.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type pg from "pg";
import type { LevelWithSilent, Logger } from "pino";
import client from "prom-client";
import type { Admission, SaleStore } from "../../processors/flashsale/sale-store.ts";
import {
  type AvroSerde,
  type Clock,
  HEADER,
  headerList,
  type Metrics,
  newEventHeaders,
  type Producer,
  systemClock,
  TokenBucket,
} from "../../runtime/index.ts";
import type { SchemaFile } from "../../schemas/schema-files.ts";
import type { FlashSalePurchase } from "../../schemas/types.generated.ts";
import { httpService, problem } from "../http-service.ts";

export const PURCHASES_TOPIC = "flashsale.purchases";
const SOLD_OUT_FOR_MS = 1_000;

export interface FlashSaleGatewayDeps {
  store: SaleStore;
  producer: Producer;
  serde: AvroSerde;
  /** FlashSalePurchase's schema file. */
  schema: SchemaFile;
  db: pg.Pool;
  log: Logger;
  metrics: Metrics;
  /** Requests admitted to the Redis check a second, and how many may be saved up. */
  rate: number;
  burst: number;
  clock?: Clock;
}

interface PurchaseRequest {
  userId: string;
  sku: string;
  quantity: number;
  requestId: string;
}

const id = { type: "string", minLength: 1, maxLength: 200 } as const;
const purchaseRequest = {
  type: "object",
  required: ["userId", "sku", "quantity", "requestId"],
  additionalProperties: false,
  properties: { userId: id, sku: id, requestId: id, quantity: { type: "integer", minimum: 1, maximum: 100 } },
} as const;
const saleParams = { type: "object", required: ["saleId"], properties: { saleId: id } } as const;
const paymentParams = {
  type: "object",
  required: ["saleId", "purchaseId"],
  properties: { saleId: id, purchaseId: id },
} as const;

/** Each answer but 202: its status and stable code. */
const REFUSALS: Record<Exclude<Admission["outcome"], "ACCEPTED" | "DUPLICATE">, [number, string, string]> = {
  SOLD_OUT: [409, "SOLD_OUT", "the sale has no units left"],
  USER_LIMIT: [409, "USER_LIMIT", "this user holds as many units as the sale allows one user"],
  NOT_OPEN: [409, "SALE_NOT_OPEN", "the sale has not started or has ended"],
  NO_SALE: [404, "NO_SUCH_SALE", "there is no such flash sale"],
  LOST: [503, "UNAVAILABLE", "the sale's state is being restored: try again"],
};

/** `level`, or the logger's own when that is quieter still. */
const quieter = (log: Logger, level: LevelWithSilent): LevelWithSilent =>
  (log.levels.values[log.level] ?? 0) > (log.levels.values[level] ?? 0) ? (log.level as LevelWithSilent) : level;

export function flashSaleGateway(deps: FlashSaleGatewayDeps): FastifyInstance {
  const { store, producer, serde, schema, db, log, metrics, clock = systemClock } = deps;
  const app = httpService({
    log,
    metrics,
    ready: async () => (await store.redis.ping()) === "PONG" && (await db.query("SELECT 1")).rowCount === 1,
  });
  const outcomes = new client.Counter({
    name: "sluice_flashsale_requests_total",
    help: "Flash-sale purchase attempts, by outcome",
    labelNames: ["outcome"],
    registers: [metrics.registry],
  });
  const bucket = new TokenBucket(deps.rate, deps.burst, clock.now());
  const soldOutUntil = new Map<string, number>();
  const refuse = (reply: FastifyReply, outcome: string, status: number, code: string, message: string) => {
    outcomes.inc({ outcome });
    return reply.code(status).send(problem(code, message));
  };

  app.post<{ Params: { saleId: string }; Body: PurchaseRequest }>(
    "/flash-sales/:saleId/purchases",
    // Not each request logged (a burst's worth of lines): /metrics counts them by outcome.
    { schema: { params: saleParams, body: purchaseRequest }, logLevel: quieter(log, "warn") },
    async (request, reply) => {
      const { saleId } = request.params;
      const { userId, sku, quantity, requestId } = request.body;
      const now = clock.now();
      const wait = bucket.take(1, now);
      if (wait > 0) {
        reply.header("retry-after", String(Math.ceil(wait / 1_000)));
        return refuse(reply, "RATE_LIMITED", 429, "RATE_LIMITED", "too many requests: try again after Retry-After");
      }
      if ((soldOutUntil.get(saleId) ?? 0) > now) return refuse(reply, "SOLD_OUT", ...REFUSALS.SOLD_OUT);
      let admission: Admission;
      try {
        const sale = await store.sale(saleId);
        if (sale && sale.sku !== sku) {
          return refuse(reply, "WRONG_SKU", 409, "WRONG_SKU", `flash sale ${saleId} sells ${sale.sku}, not ${sku}`);
        }
        admission = await store.admit(saleId, requestId, userId, quantity, now);
      } catch (error) {
        request.log.warn({ err: error }, "flash sale: Redis out of reach, nothing admitted");
        return refuse(reply, "UNAVAILABLE", 503, "UNAVAILABLE", "the sale cannot take purchases now: try again");
      }
      if (admission.outcome !== "ACCEPTED" && admission.outcome !== "DUPLICATE") {
        if (admission.outcome === "SOLD_OUT") soldOutUntil.set(saleId, now + SOLD_OUT_FOR_MS);
        return refuse(reply, admission.outcome, ...REFUSALS[admission.outcome]);
      }
      const { purchaseId, admittedAt, sale } = admission;
      const purchase: FlashSalePurchase = {
        purchaseId,
        saleId,
        userId,
        sku,
        quantity,
        requestedAt: BigInt(admittedAt),
        paymentDueAt: BigInt(admittedAt + sale.windowMs),
      };
      try {
        const value = await serde.encode(`${PURCHASES_TOPIC}-value`, schema, purchase);
        // The purchase id is the event id: a purchase produced again is the same event.
        const headers = headerList({ ...newEventHeaders(now), [HEADER.eventId]: purchaseId });
        await producer.send([{ topic: PURCHASES_TOPIC, messages: [{ key: userId, value, headers }] }]);
      } catch (error) {
        request.log.warn({ err: error, "flashsale.purchase": purchaseId }, "flash sale: purchase not queued");
        return refuse(reply, "UNAVAILABLE", 503, "UNAVAILABLE", "the purchase could not be queued: send it again");
      }
      outcomes.inc({ outcome: admission.outcome });
      return reply.code(202).send({
        reservationId: purchaseId,
        status: "RESERVED",
        paymentDueAt: new Date(admittedAt + sale.windowMs).toISOString(),
      });
    },
  );

  app.get<{ Params: { saleId: string } }>(
    "/flash-sales/:saleId",
    { schema: { params: saleParams } },
    async (request, reply) => {
      const snapshot = await store.snapshot(request.params.saleId);
      if (!snapshot) return reply.code(404).send(problem("NO_SUCH_SALE", "there is no such flash sale"));
      const { sale, stock, reservations } = snapshot;
      return { ...sale, remaining: stock, reservations: reservations.size };
    },
  );

  app.post<{ Params: { saleId: string; purchaseId: string } }>(
    "/flash-sales/:saleId/purchases/:purchaseId/payment",
    { schema: { params: paymentParams } },
    async (request, reply) => {
      const { saleId, purchaseId } = request.params;
      const { rows } = await db.query<{ status: string }>(
        `UPDATE flash_sale_orders SET status = CASE WHEN status = 'PENDING' THEN 'PAID' ELSE status END
         WHERE purchase_id = $1 AND sale_id = $2 RETURNING status`,
        [purchaseId, saleId],
      );
      const status = rows[0]?.status;
      if (status === "PAID") return { reservationId: purchaseId, status };
      if (status === "EXPIRED") {
        return reply.code(409).send(problem("RESERVATION_EXPIRED", "the reservation expired unpaid"));
      }
      // Not written yet (the writer keeps a steady pace), or never admitted.
      reply.header("retry-after", "1");
      return reply.code(404).send(problem("NO_SUCH_RESERVATION", "no such reservation yet: try again shortly"));
    },
  );
  return app;
}
