/**
 * The reference order service. `POST /orders` checks the request, then inserts the order and its events
 * (OrderCreated on orders.created, the CREATED state on orders.state) through the transactional outbox in one
 * PostgreSQL transaction: the order exists with its events or not at all, and the relay publishes them. A request
 * carries a `requestId`: sent again after a lost answer, it finds the order it placed (200) instead of placing
 * a second one (201). `POST /orders/:orderId/payment` marks it paid, with its PAID event, the same way.
 * `GET /orders/:orderId` answers with the order and its state as the order-state processor keeps it (the lifecycle
 * after creation: paid, shipped, cancelled for want of stock or payment), or the service's own until then.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { Logger } from "pino";
import type { Outbox } from "../../connectors/outbox-relay/outbox.ts";
import { crashPoint, inTransaction, type Metrics, type Queryable } from "../../runtime/index.ts";
import { httpService, problem } from "../http-service.ts";

export const ORDER_SERVICE_MIGRATIONS = path.join(import.meta.dirname, "migrations");

export interface OrderServiceDeps {
  db: pg.Pool;
  outbox: Outbox;
  log: Logger;
  metrics: Metrics;
}

interface OrderRequest {
  requestId: string;
  userId: string;
  items: { sku: string; quantity: number; unitPriceCents: number }[];
  currency: string;
}

interface OrderRow {
  order_id: string;
  user_id: string;
  items: OrderRequest["items"];
  total_cents: string;
  currency: string;
  state: string;
  created_at: Date;
}

const id = { type: "string", minLength: 1, maxLength: 200 } as const;
const orderRequest = {
  type: "object",
  required: ["requestId", "userId", "items"],
  additionalProperties: false,
  properties: {
    requestId: id,
    userId: id,
    currency: { type: "string", pattern: "^[A-Z]{3}$", default: "EUR" },
    items: {
      type: "array",
      minItems: 1,
      maxItems: 100,
      items: {
        type: "object",
        required: ["sku", "quantity", "unitPriceCents"],
        additionalProperties: false,
        properties: {
          sku: id,
          quantity: { type: "integer", minimum: 1, maximum: 10_000 },
          // Bounded so that a total stays an exact number in JSON: 100 × 10,000 × 10^9 < 2^53.
          unitPriceCents: { type: "integer", minimum: 0, maximum: 1_000_000_000 },
        },
      },
    },
  },
} as const;
const PAID_OR_LATER = new Set(["PAID", "SHIPPED", "COMPLETED"]);
const orderParams = { type: "object", required: ["orderId"], properties: { orderId: id } } as const;

export function orderService({ db, outbox, log, metrics }: OrderServiceDeps): FastifyInstance {
  const app = httpService({ log, metrics, ready: async () => (await db.query("SELECT 1")).rowCount === 1 });

  app.post<{ Body: OrderRequest }>("/orders", { schema: { body: orderRequest } }, async (request, reply) => {
    const { requestId, userId, items, currency } = request.body;
    const { created, order } = await inTransaction(db, async (tx) => {
      const orderId = randomUUID();
      const total = items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
      const inserted = await tx.query<OrderRow>(
        `INSERT INTO orders (order_id, request_id, user_id, items, total_cents, currency, state)
         VALUES ($1, $2, $3, $4, $5, $6, 'CREATED') ON CONFLICT (request_id) DO NOTHING RETURNING *`,
        [orderId, requestId, userId, JSON.stringify(items), total, currency],
      );
      const row = inserted.rows[0];
      // Placed before (a retried request): the first placement's order, whose events are already in the outbox.
      if (!row) return { created: false, order: await findOrder(tx, "request_id", requestId) };
      const at = BigInt(row.created_at.getTime());
      await outbox.publish(tx, "orders.created", orderId, {
        orderId,
        userId,
        items: items.map((item) => ({ ...item, unitPriceCents: BigInt(item.unitPriceCents) })),
        totalCents: BigInt(total),
        currency,
        createdAt: at,
      });
      await outbox.publish(tx, "orders.state", orderId, { orderId, state: "CREATED", changedAt: at });
      crashPoint("orders.before-commit");
      return { created: true, order: row };
    });
    if (created) request.log.info({ "order.id": order?.order_id }, "order placed");
    return reply.code(created ? 201 : 200).send(view(order));
  });

  app.post<{ Params: { orderId: string } }>(
    "/orders/:orderId/payment",
    { schema: { params: orderParams } },
    async (request, reply) => {
      const { orderId } = request.params;
      const { status, body } = await inTransaction(db, async (tx) => {
        const order = await findOrder(tx, "order_id", orderId, "FOR UPDATE OF o");
        if (!order) return { status: 404, body: problem("ORDER_NOT_FOUND", `no order ${orderId}`) };
        // Paid before (and perhaps shipped since): the same answer.
        if (PAID_OR_LATER.has(order.state)) return { status: 200, body: view(order) };
        if (order.state !== "CREATED") {
          const message = `order ${orderId} is ${order.state}: only a CREATED order can be paid`;
          return { status: 409, body: problem("ORDER_NOT_PAYABLE", message) };
        }
        const paid = await tx.query<{ paid_at: Date }>(
          "UPDATE orders SET state = 'PAID', paid_at = now() WHERE order_id = $1 RETURNING paid_at",
          [orderId],
        );
        const at = BigInt((paid.rows[0] as { paid_at: Date }).paid_at.getTime());
        await outbox.publish(tx, "orders.state", orderId, { orderId, state: "PAID", changedAt: at });
        return { status: 200, body: view({ ...order, state: "PAID" }) };
      });
      return reply.code(status).send(body);
    },
  );

  app.get<{ Params: { orderId: string } }>(
    "/orders/:orderId",
    { schema: { params: orderParams } },
    async (request, reply) => {
      const order = await findOrder(db, "order_id", request.params.orderId);
      if (!order) return reply.code(404).send(problem("ORDER_NOT_FOUND", `no order ${request.params.orderId}`));
      return view(order);
    },
  );
  return app;
}

/** The order with its lifecycle state: order-state's once it has one, a later one than the service's own. */
async function findOrder(
  db: Queryable,
  by: "order_id" | "request_id",
  value: string,
  lock = "",
): Promise<OrderRow | undefined> {
  const { rows } = await db.query<OrderRow>(
    `SELECT o.order_id, o.user_id, o.items, o.total_cents, o.currency, o.created_at,
            CASE WHEN s.state IS NULL OR (o.state = 'PAID' AND s.state = 'CREATED') THEN o.state ELSE s.state END AS state
     FROM orders o LEFT JOIN order_states s ON s.order_id = o.order_id WHERE o.${by} = $1 ${lock}`,
    [value],
  );
  return rows[0];
}

function view(order: OrderRow | undefined) {
  if (!order) throw new Error("an order the transaction wrote was not found");
  return {
    orderId: order.order_id,
    userId: order.user_id,
    items: order.items,
    totalCents: Number(order.total_cents),
    currency: order.currency,
    state: order.state,
    createdAt: order.created_at.toISOString(),
  };
}
