/**
 * Demo traffic for the README's run command, through the reference services. The user service creates the
 * customers (users.status, through the outbox, into the user directory); the order service places the orders
 * (POST /orders: the order and its events in one transaction, published by the outbox relay) and takes payment
 * for three in four; the warehouse ships and completes the paid ones once the order-state processor has them
 * paid. Every fourth order is never paid (the order-timeout processor cancels it); one customer's mail server
 * refuses the first attempt (its confirmation email goes through a retry tier); one last order asks for more of a
 * limited edition than is left (inventory refuses it, and it is compensated). The order ids are written to
 * .sluice/run/demo-orders.json for the report.
 */

import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { AvroSerde, CatalogProducer, integerVar, librdkafka, runtimeConfig } from "../../runtime/index.ts";
import { SchemaRegistryClient } from "../../schemas/registry-client.ts";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";
import type { TopicValues } from "../../schemas/types.generated.ts";
import { TOPICS } from "../../topics/catalog.ts";
import { stackConfig } from "../stack/stack-config.ts";

const ORDERS = integerVar(process.env, "SLUICE_DEMO_ORDERS", 12);
const ORDERS_URL = process.env.SLUICE_ORDERS_URL || "http://127.0.0.1:9410";
const USERS_URL = process.env.SLUICE_USERS_URL || "http://127.0.0.1:9420";
const SKUS = ["sku-tee", "sku-mug", "sku-cap", "sku-socks"];
const LIMITED = "sku-limited-edition";
const FLAKY_ORDER = 2;
const isUnpaid = (i: number) => i % 4 === 3;
const userOf = (i: number) => (i === FLAKY_ORDER ? "user-102+flaky" : `user-${100 + (i % 7)}`);

interface Order {
  orderId: string;
}

async function call<T>(method: string, url: string, body?: object): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const run = randomUUID().slice(0, 6);
const config = runtimeConfig();

// The customers, through the user service.
const customers = [...new Set(Array.from({ length: ORDERS + 1 }, (_, i) => userOf(i)))];
for (const userId of customers) {
  await call("PUT", `${USERS_URL}/users/${encodeURIComponent(userId)}/status`, {
    status: "ACTIVE",
    email: `${userId}@example.com`,
  });
}
const db = new pg.Pool({ connectionString: config.databaseUrl });
const known = async () =>
  Number(
    (await db.query("SELECT count(*) AS n FROM user_directory WHERE user_id = ANY($1)", [customers])).rows[0]?.n,
  ) === customers.length;
await until(known, 30_000);
console.log(
  `[demo] ${customers.length} customers created through the user service (PUT /users/:id/status), ` +
    "synced to the user directory (outbox -> users.status -> user-directory)",
);

// One of the limited edition is left.
await db.query("INSERT INTO stock (sku, quantity) VALUES ($1, 1) ON CONFLICT (sku) DO UPDATE SET quantity = 1", [
  LIMITED,
]);

const orders: Order[] = [];
for (let i = 0; i < ORDERS; i++) {
  const quantity = 1 + (i % 3);
  const sku = SKUS[i % SKUS.length] ?? "sku-tee";
  orders.push(
    await call<Order>("POST", `${ORDERS_URL}/orders`, {
      requestId: `demo-${run}-${i}`,
      userId: userOf(i),
      items: [{ sku, quantity, unitPriceCents: 1_999 }],
    }),
  );
}
const limited = await call<Order>("POST", `${ORDERS_URL}/orders`, {
  requestId: `demo-${run}-limited`,
  userId: userOf(ORDERS),
  items: [
    { sku: "sku-cap", quantity: 1, unitPriceCents: 1_999 }, // reserved first (SKU order), then given back
    { sku: LIMITED, quantity: 2, unitPriceCents: 9_999 },
  ],
});
const paid = orders.filter((_, i) => !isUnpaid(i));
for (const order of paid) await call("POST", `${ORDERS_URL}/orders/${order.orderId}/payment`);
console.log(
  `[demo] ${orders.length + 1} orders placed through the order service (run ${run}), ${paid.length} paid: ` +
    `POST /orders writes the order and its events in one transaction, the outbox relay publishes them`,
);
console.log(`[demo] the order of a customer whose mail server is flaky: ${orders[FLAKY_ORDER]?.orderId}`);
console.log(`[demo] the order asking for 2 of ${LIMITED}, of which 1 is left: ${limited.orderId}`);

// The warehouse ships what the order-state processor has seen paid, then completes it.
const producer = librdkafka({ brokers: config.kafkaBrokers, clientId: "sluice-demo" }).producer();
const catalog = new CatalogProducer<TopicValues>({
  producer,
  serde: new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl)),
  topics: TOPICS,
  schemas: loadSchemaFiles(config.schemasDir),
});
await producer.connect();
try {
  const paidIds = paid.map((o) => o.orderId);
  const seenPaid = async () =>
    Number(
      (await db.query("SELECT count(*) AS n FROM order_states WHERE order_id = ANY($1) AND state = 'PAID'", [paidIds]))
        .rows[0]?.n,
    ) === paidIds.length;
  await until(seenPaid, 30_000);
  const now = Date.now();
  await catalog.send(
    "orders.state",
    paidIds.flatMap((orderId) =>
      (["SHIPPED", "COMPLETED"] as const).map((state, step) => ({ orderId, state, changedAt: BigInt(now + step) })),
    ),
  );
  console.log(`[demo] the warehouse shipped and completed the ${paidIds.length} paid orders`);
  const example = await call<object>("GET", `${ORDERS_URL}/orders/${paidIds[0]}`);
  console.log(`[demo] GET /orders/${paidIds[0]}: ${JSON.stringify(example)}`);
} finally {
  await producer.disconnect();
  await db.end();
}
const { runDir } = stackConfig();
mkdirSync(runDir, { recursive: true });
const ids = [...orders, limited].map((o) => o.orderId);
writeFileSync(path.join(runDir, "demo-orders.json"), JSON.stringify({ run, orders: ids }));

/** Waits until `check` holds, or gives up. */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`[demo] gave up waiting after ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
