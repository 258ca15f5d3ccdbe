/**
 * The reference order service through the transactional outbox, under faults: orders placed over HTTP while the
 * relay is SIGKILLed ten times and the service dies mid-request. Every committed order's events reach Kafka,
 * each once by event id, in the order's own order; a rolled-back order's never do; and the fan-out processors
 * take each order's effect once.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { OUTBOX_MIGRATIONS } from "../../connectors/outbox-relay/outbox-relay.ts";
import { MIGRATIONS } from "../../processors/registry.ts";
import { AvroSerde, HEADER, migrate, runtimeConfig } from "../../runtime/index.ts";
import type { OrderStateChanged } from "../../schemas/types.generated.ts";
import { ORDER_SERVICE_MIGRATIONS } from "../../services/orders/order-service.ts";
import { consumeUntil, kafka, type RawRecord } from "../support/kafka.ts";
import { eventually, produceUsers, registry } from "../support/runtime.ts";
import { type ChildService, killChildren, startRelay, startService } from "../support/services.ts";
import { killStrays, startSluiceRun } from "../support/sluice-run.ts";

const ORDERS = 5_000;
const CLIENTS = 8;
const RELAY_KILLS = 10;
const db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl });
const serde = new AvroSerde(registry);

afterAll(async () => {
  killChildren();
  await killStrays();
  await db.end();
});

/** Each partition's end offset now: what a topic holds from here on is this test's. */
async function ends(topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.topicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

async function recordsSince(topic: string, from: Map<number, bigint>, eventIds: number): Promise<RawRecord[]> {
  const since = (records: RawRecord[]) =>
    records.filter((r) => BigInt(r.offset) >= (from.get(r.partition) ?? 0n) && r.headers[HEADER.eventId]);
  const records = await consumeUntil(
    topic,
    (all) => new Set(since(all).map((r) => r.headers[HEADER.eventId])).size >= eventIds,
    90_000,
    1_000,
  );
  return since(records);
}

describe("the order service and the outbox relay under faults", () => {
  it("publishes every committed order's events once each, in order, none of a rolled-back one", async () => {
    await migrate(db, [OUTBOX_MIGRATIONS, MIGRATIONS, ORDER_SERVICE_MIGRATIONS]);
    const run = randomUUID().slice(0, 8);
    // What earlier outbox users left unpublished goes out first: what the topics get from here on is this test's.
    const leftover = startRelay();
    const drained = async () =>
      (await db.query("SELECT 1 FROM sluice_outbox WHERE published_at IS NULL LIMIT 1")).rowCount === 0;
    expect(await eventually(drained, 60_000)).toBe(true);
    leftover.child.kill("SIGKILL");
    await leftover.exited;
    const from = { created: await ends("orders.created"), state: await ends("orders.state") };

    // The fan-out processors consume the events as they come: each order takes effect once downstream.
    const userOf = (i: number) => `user-${run}-${i % 97}`;
    const users = [...new Set(Array.from({ length: ORDERS }, (_, i) => userOf(i)))];
    await produceUsers(users);
    // Payment deadlines far beyond the suite: 5,000 scheduled checks wait in the 1h delay tier instead of coming due
    // (and hopping through the tiers in one burst) while later tests time their own delays.
    const host = startSluiceRun(
      ["inventory", "points", "email", "email-sender", "order-state", "order-timeout", "user-directory"],
      { SLUICE_ORDER_TIMEOUT: "2h" },
    );
    await host.ready();

    // The service: the first life dies before committing its 300th order; two more are SIGKILLed mid-stream.
    let service = await startService("orders", { SLUICE_CRASH_AT: "orders.before-commit:300" });
    const url = service.url;
    const port = Number(new URL(url).port);
    const deaths: (NodeJS.Signals | null)[] = [];
    const placed = Promise.withResolvers<void>();
    let placing = true;
    const supervising = (async () => {
      const planned = [undefined, 2_000, 3_000]; // the first life dies at its crash point
      while (placing) {
        const delay = planned.shift();
        const killer = delay === undefined ? undefined : setTimeout(() => service.child.kill("SIGKILL"), delay);
        const ended = await Promise.race([service.exited, placed.promise.then(() => "placed" as const)]);
        clearTimeout(killer);
        if (ended === "placed") break;
        deaths.push(ended);
        service = await startService("orders", {}, port);
      }
    })();

    // The relay: SIGKILLed ten times while orders come in, then one that stays.
    let relay: ChildService = startRelay();
    const relaying = (async () => {
      for (let kill = 0; kill < RELAY_KILLS; kill++) {
        await new Promise((resolve) => setTimeout(resolve, 1_200 + Math.random() * 800));
        relay.child.kill("SIGKILL");
        await relay.exited;
        relay = startRelay();
      }
    })();

    /** POSTs until the service answers (it may be dead or restarting); a lost answer is retried with the same body. */
    const post = async (path: string, body?: object): Promise<{ status: number; json: Record<string, unknown> }> => {
      for (;;) {
        try {
          const response = await fetch(`${url}${path}`, {
            method: "POST",
            headers: body ? { "content-type": "application/json" } : {},
            body: body ? JSON.stringify(body) : undefined,
          });
          if (response.status < 500)
            return { status: response.status, json: (await response.json()) as Record<string, unknown> };
        } catch {
          // the service died under this request, or is not back yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    let next = 0;
    const orders: { orderId: string; paid: boolean }[] = [];
    const client = async () => {
      for (let i = next++; i < ORDERS; i = next++) {
        const order = await post("/orders", {
          requestId: `${run}-${i}`,
          userId: userOf(i),
          items: [{ sku: `sku-${run}-${i % 13}`, quantity: 1 + (i % 3), unitPriceCents: 990 }],
        });
        expect([200, 201]).toContain(order.status);
        const orderId = String(order.json.orderId);
        const paid = i % 2 === 0;
        if (paid) expect((await post(`/orders/${orderId}/payment`)).status).toBe(200);
        orders.push({ orderId, paid });
      }
    };
    try {
      await Promise.all(Array.from({ length: CLIENTS }, client));
    } finally {
      placing = false;
      placed.resolve();
      await relaying;
      await supervising;
    }

    // Each request placed one order, whatever the deaths and retries.
    const { rows } = await db.query<{ order_id: string; state: string }>(
      "SELECT order_id, state FROM orders WHERE request_id LIKE $1",
      [`${run}-%`],
    );
    expect(rows).toHaveLength(ORDERS);
    expect(new Set(rows.map((r) => r.order_id))).toEqual(new Set(orders.map((p) => p.orderId)));
    expect(deaths).toEqual(["SIGKILL", "SIGKILL", "SIGKILL"]);

    const committed = new Set(rows.map((r) => r.order_id));
    const paid = orders.filter((p) => p.paid).length;
    const outbox = async () =>
      (
        await db.query<{ event_id: string; topic: string; published: boolean }>(
          `SELECT event_id, topic, published_at IS NOT NULL AS published FROM sluice_outbox
           WHERE key = ANY($1) AND topic IN ('orders.created', 'orders.state')`,
          [[...committed]],
        )
      ).rows;
    expect(await eventually(async () => (await outbox()).every((r) => r.published), 90_000)).toBe(true);
    const events = await outbox();
    expect(events).toHaveLength(ORDERS * 2 + paid);

    const created = await recordsSince("orders.created", from.created, ORDERS);
    const states = await recordsSince("orders.state", from.state, ORDERS + paid);
    // Nothing of a rolled-back order (the first life's 300th, and whatever died uncommitted).
    for (const record of [...created, ...states]) expect(committed.has(record.key ?? "")).toBe(true);
    // Every committed event, by event id; the republished copies a killed relay left are the same events.
    const ids = (records: RawRecord[]) => new Set(records.map((r) => r.headers[HEADER.eventId]));
    expect(ids([...created, ...states])).toEqual(new Set(events.map((e) => e.event_id)));
    const perOrder = new Map<string, string[]>();
    const seen = new Set<string>();
    for (const record of states) {
      const eventId = record.headers[HEADER.eventId] ?? "";
      if (seen.has(eventId)) continue; // a consumer's ctx.once drops the copy
      seen.add(eventId);
      const { value } = await serde.decode<OrderStateChanged>(record.value as Buffer);
      perOrder.set(value.orderId, [...(perOrder.get(value.orderId) ?? []), value.state]);
    }
    for (const { orderId, paid } of orders) {
      expect(perOrder.get(orderId)).toEqual(paid ? ["CREATED", "PAID"] : ["CREATED"]);
    }
    // Downstream, one effect per order: its stock reserved, its points granted, its email sent, its state kept.
    const placedIds = [...committed];
    const effects = async () =>
      (
        await db.query<{ reserved: number; points: number; emails: number; paid: number; created: number }>(
          `SELECT (SELECT count(*)::int FROM stock_reservations WHERE order_id = ANY($1)) AS reserved,
                  (SELECT count(*)::int FROM points_ledger WHERE order_id = ANY($1)) AS points,
                  (SELECT count(*)::int FROM emails_sent WHERE email_id = ANY($2)) AS emails,
                  (SELECT count(*)::int FROM order_states WHERE order_id = ANY($1) AND state = 'PAID') AS paid,
                  (SELECT count(*)::int FROM order_states WHERE order_id = ANY($1) AND state = 'CREATED') AS created`,
          [placedIds, placedIds.map((id) => `order-confirmation:${id}`)],
        )
      ).rows[0];
    const expected = { reserved: ORDERS, points: ORDERS, emails: ORDERS, paid, created: ORDERS - paid };
    expect(await eventually(async () => JSON.stringify(await effects()) === JSON.stringify(expected), 180_000)).toBe(
      true,
    );
    expect(await host.stop()).toBe(0);

    const copies = created.length + states.length - (ORDERS * 2 + paid);
    console.log(
      `order service under faults: ${ORDERS} orders, ${events.length} events, ${copies} republished copies, ` +
        `service deaths ${deaths.length}, relay kills ${RELAY_KILLS}`,
    );
  }, 420_000);
});
