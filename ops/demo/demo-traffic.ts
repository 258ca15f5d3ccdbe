/**
 * Demo traffic for the README's run command: a handful of orders, each created and then moved through its
 * states. Every fourth order is never paid (the order-timeout processor cancels it); one customer's mail server
 * refuses the first attempt (its confirmation email goes through a retry tier). The order ids are written to
 * .sluice/run/demo-orders.json for the report.
 */

import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AvroSerde, CatalogProducer, integerVar, librdkafka, runtimeConfig } from "../../runtime/index.ts";
import { SchemaRegistryClient } from "../../schemas/registry-client.ts";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";
import type { OrderCreated, OrderState, OrderStateChanged, TopicValues } from "../../schemas/types.generated.ts";
import { TOPICS } from "../../topics/catalog.ts";
import { stackConfig } from "../stack/stack-config.ts";

const ORDERS = integerVar(process.env, "SLUICE_DEMO_ORDERS", 12);
const SKUS = ["sku-tee", "sku-mug", "sku-cap", "sku-socks"];
const FLAKY_ORDER = 2;
const isUnpaid = (i: number) => i % 4 === 3;

function order(i: number, run: string, now: number): OrderCreated {
  const quantity = 1 + (i % 3);
  return {
    orderId: `demo-${run}-${i}`,
    userId: i === FLAKY_ORDER ? "user-102+flaky" : `user-${100 + (i % 7)}`,
    items: [{ sku: SKUS[i % SKUS.length] ?? "sku-tee", quantity, unitPriceCents: 1_999n }],
    totalCents: BigInt(quantity) * 1_999n,
    currency: "EUR",
    createdAt: BigInt(now),
  };
}

const run = randomUUID().slice(0, 6);
const config = runtimeConfig();
const producer = librdkafka({ brokers: config.kafkaBrokers, clientId: "sluice-demo" }).producer();
const catalog = new CatalogProducer<TopicValues>({
  producer,
  serde: new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl)),
  topics: TOPICS,
  schemas: loadSchemaFiles(config.schemasDir),
});
await producer.connect();
try {
  const now = Date.now();
  const orders = Array.from({ length: ORDERS }, (_, i) => order(i, run, now));
  await catalog.send("orders.created", orders);
  const states: OrderState[] = ["CREATED", "PAID", "SHIPPED", "COMPLETED"];
  const changes: OrderStateChanged[] = orders.flatMap((o, i) =>
    (isUnpaid(i) ? states.slice(0, 1) : states).map((state, step) => ({
      orderId: o.orderId,
      state,
      changedAt: BigInt(now + step),
    })),
  );
  await catalog.send("orders.state", changes);
  const { runDir } = stackConfig();
  mkdirSync(runDir, { recursive: true });
  writeFileSync(path.join(runDir, "demo-orders.json"), JSON.stringify({ run, orders: orders.map((o) => o.orderId) }));
  console.log(
    `[demo] produced ${orders.length} orders (run ${run}): ${orders.filter((_, i) => isUnpaid(i)).length} stay unpaid, ` +
      `order ${orders[FLAKY_ORDER]?.orderId} belongs to a customer whose mail server is flaky`,
  );
} finally {
  await producer.disconnect();
}
