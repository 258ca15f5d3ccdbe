/**
 * Demo traffic for the README's run command: a handful of orders, each created and then moved through its
 * states, produced as Avro through the registry. Processors consume it as they arrive in later issues.
 */
import { randomUUID } from "node:crypto";
import { CatalogProducer } from "../../processors/runtime/catalog-producer.ts";
import { createKafka, createProducer } from "../../processors/runtime/kafka-client.ts";
import { AvroSerde } from "../../processors/runtime/serde/avro-serde.ts";
import { SchemaRegistryClient } from "../../processors/runtime/serde/registry-client.ts";
import type { OrderCreated, OrderState, OrderStateChanged } from "../../schemas/types.generated.ts";

const ORDERS = Number(process.env.SLUICE_DEMO_ORDERS || 10);
const SKUS = ["sku-tee", "sku-mug", "sku-cap", "sku-socks"];

function order(i: number, now: number): OrderCreated {
  const quantity = 1 + (i % 3);
  const sku = SKUS[i % SKUS.length] ?? "sku-tee";
  return {
    orderId: `order-${randomUUID().slice(0, 8)}`,
    userId: `user-${100 + (i % 7)}`,
    items: [{ sku, quantity, unitPriceCents: 1_999 }],
    totalCents: quantity * 1_999,
    currency: "EUR",
    createdAt: now,
  };
}

/** Most orders are paid and shipped; every fourth stays unpaid, for the order-timeout processor to cancel. */
function statesOf(i: number): OrderState[] {
  return i % 4 === 3 ? ["CREATED"] : ["CREATED", "PAID", "SHIPPED", "COMPLETED"];
}

const producer = createProducer(createKafka("sluice-demo"));
const catalog = new CatalogProducer(producer, new AvroSerde(new SchemaRegistryClient()));
await producer.connect();
try {
  const now = Date.now();
  const orders = Array.from({ length: ORDERS }, (_, i) => order(i, now));
  await catalog.send("orders.created", orders);
  const changes: OrderStateChanged[] = orders.flatMap((o, i) =>
    statesOf(i).map((state, step) => ({ orderId: o.orderId, state, changedAt: now + step })),
  );
  await catalog.send("orders.state", changes);
  console.log(`[demo] produced ${orders.length} orders.created and ${changes.length} orders.state records`);
} finally {
  await producer.disconnect();
}
