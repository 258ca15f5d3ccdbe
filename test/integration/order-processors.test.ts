import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeConfig } from "../../runtime/index.ts";
import type { OrderCreated, OrderState } from "../../schemas/types.generated.ts";
import { eventually, produceToCatalog, produceUsers } from "../support/runtime.ts";
import { killStrays, type RunningHost, startSluiceRun } from "../support/sluice-run.ts";

const ORDERS = 24;
const UNPAID = new Set([3, 11, 19]);
const FLAKY = 5;

describe("the order processors under `sluice run`", () => {
  const run = randomUUID().slice(0, 8);
  const orderIds = Array.from({ length: ORDERS }, (_, i) => `e2e-${run}-${i}`);
  let host: RunningHost;
  let db: pg.Pool;
  let producedAt = 0;
  // Credentials the processes are given (PostgreSQL's trust auth takes any password): none may reach a log line.
  const secrets = [`pg-pw-${run}`, `hook-secret-${run}`, `smtp-pw-${run}`];
  const credentials = {
    DATABASE_URL: runtimeConfig().databaseUrl.replace("://postgres@", `://postgres:${secrets[0]}@`),
    ALERT_WEBHOOK_SECRET: secrets[1],
    ALERT_SMTP_URL: `smtp://alerts:${secrets[2]}@127.0.0.1:2525`,
    ALERT_EMAIL_TO: "ops@example.com",
    SLUICE_LOG_LEVEL: "info", // the host logs where it connects: the database's URL among them
  };
  const userOf = (i: number) => (i === FLAKY ? `user-${run}+flaky` : `user-${run}-${i % 5}`);

  beforeAll(async () => {
    db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl });
    host = startSluiceRun(
      [
        "inventory",
        "inventory-restore",
        "points",
        "email",
        "email-sender",
        "order-state",
        "order-timeout",
        "order-timeout-check",
        "user-directory",
      ],
      { SLUICE_ORDER_TIMEOUT: "4s", SLUICE_FLAKY_EMAIL_ATTEMPTS: "1", ...credentials },
    );
    await host.ready();
    // The confirmation email goes to the address the user directory has: the users come first.
    const users = [...new Set(orderIds.map((_, i) => userOf(i)))];
    await produceUsers(users);
    const known = async () =>
      (await count("SELECT count(*) AS n FROM user_directory WHERE user_id = ANY($1)", [users])) === users.length;
    expect(await eventually(known)).toBe(true);
    const orders: OrderCreated[] = orderIds.map((orderId, i) => ({
      orderId,
      userId: userOf(i),
      items: [
        { sku: `sku-${run}-a`, quantity: 1 + (i % 3), unitPriceCents: 1_000n },
        { sku: `sku-${run}-b`, quantity: 1, unitPriceCents: 2_550n },
      ],
      totalCents: BigInt((1 + (i % 3)) * 1_000 + 2_550),
      currency: "EUR",
      createdAt: BigInt(Date.now()),
    }));
    producedAt = Date.now();
    await produceToCatalog("orders.created", orders);
    const states = orderIds.flatMap((orderId, i) =>
      (UNPAID.has(i) ? ["CREATED"] : ["CREATED", "PAID", "SHIPPED", "COMPLETED"]).map((state, step) => ({
        orderId,
        state: state as OrderState,
        changedAt: BigInt(producedAt + step),
      })),
    );
    await produceToCatalog("orders.state", states);
  });

  afterAll(async () => {
    await killStrays();
    await db?.end();
    if (host && host.process.exitCode === null) await host.stop();
  });

  const count = async (sql: string, params: unknown[]) => Number((await db.query(sql, params)).rows[0]?.n);

  it("reserves stock once per order, in one transaction with the order", async () => {
    expect(
      await eventually(
        async () =>
          (await count("SELECT count(*) AS n FROM stock_reservations WHERE order_id = ANY($1)", [orderIds])) ===
          ORDERS * 2,
      ),
    ).toBe(true);
    const reserved = await count("SELECT sum(quantity) AS n FROM stock_reservations WHERE order_id = ANY($1)", [
      orderIds,
    ]);
    const expected = orderIds.reduce((sum, _, i) => sum + (1 + (i % 3)) + 1, 0);
    expect(reserved).toBe(expected);
  });

  it("grants points exactly once per order", async () => {
    expect(
      await eventually(
        async () =>
          (await count("SELECT count(*) AS n FROM points_ledger WHERE order_id = ANY($1)", [orderIds])) === ORDERS,
      ),
    ).toBe(true);
    const perOrder = await db.query(
      "SELECT order_id, count(*)::int AS n FROM points_ledger WHERE order_id = ANY($1) GROUP BY 1",
      [orderIds],
    );
    expect(perOrder.rows.every((r) => r.n === 1)).toBe(true);
  });

  it("sends every confirmation email once; a failing mail server delays only that email", async () => {
    const sent = async () =>
      (
        await db.query<{ email_id: string; recipient: string; sent_at: Date }>(
          "SELECT email_id, recipient, sent_at FROM emails_sent WHERE email_id = ANY($1)",
          [orderIds.map((id) => `order-confirmation:${id}`)],
        )
      ).rows;
    expect(await eventually(async () => (await sent()).length === ORDERS, 40_000)).toBe(true);
    const rows = await sent();
    expect(new Set(rows.map((r) => r.email_id)).size).toBe(ORDERS);
    const flaky = rows.find((r) => r.recipient.includes("+flaky"))!;
    const others = rows.filter((r) => r !== flaky).map((r) => r.sent_at.getTime());
    // The flaky email waited out the 5s retry tier; the others did not wait for it.
    expect(flaky.sent_at.getTime() - producedAt).toBeGreaterThanOrEqual(5_000);
    expect(Math.max(...others)).toBeLessThan(flaky.sent_at.getTime());
    const metrics = await (await fetch(`http://127.0.0.1:${host.port}/metrics`)).text();
    expect(metrics).toMatch(
      /sluice_retries_total\{processor="email-sender",topic="emails\.outbound\.email-sender\.retry\.5s"\} [1-9]/,
    );
  });

  it("moves paid orders to completed in order, and cancels unpaid ones at their deadline, restoring stock", async () => {
    const states = async () =>
      new Map(
        (
          await db.query<{ order_id: string; state: string }>(
            "SELECT order_id, state FROM order_states WHERE order_id = ANY($1)",
            [orderIds],
          )
        ).rows.map((r) => [r.order_id, r.state]),
      );
    expect(
      await eventually(async () => {
        const s = await states();
        return orderIds.every((id, i) => s.get(id) === (UNPAID.has(i) ? "CANCELLED" : "COMPLETED"));
      }, 40_000),
    ).toBe(true);
    const unpaid = orderIds.filter((_, i) => UNPAID.has(i));
    expect(
      await eventually(
        async () =>
          (await count(
            "SELECT count(*) AS n FROM stock_reservations WHERE order_id = ANY($1) AND released_at IS NOT NULL",
            [unpaid],
          )) ===
          unpaid.length * 2,
      ),
    ).toBe(true);
    const paid = orderIds.filter((_, i) => !UNPAID.has(i));
    expect(
      await count("SELECT count(*) AS n FROM stock_reservations WHERE order_id = ANY($1) AND released_at IS NOT NULL", [
        paid,
      ]),
    ).toBe(0);
    const stockB = await count("SELECT quantity AS n FROM stock WHERE sku = $1", [`sku-${run}-b`]);
    expect(stockB).toBe(Number(process.env.SLUICE_INITIAL_STOCK || 1_000_000) - paid.length);
  });

  it("runs with a bounded heap, in the very process it was started as", () => {
    // `sluice run` re-executes itself (same pid) with heap limits, so SIGTERM above still reaches the processors.
    const argv = readFileSync(`/proc/${host.process.pid}/cmdline`, "utf8").split("\0");
    // 64 MB, and 32 MB for each of the 9 processors and the delay router.
    expect(argv).toContain("--max-old-space-size=384");
    expect(argv).toContain("--max-semi-space-size=8");
    const environ = readFileSync(`/proc/${host.process.pid}/environ`, "utf8").split("\0");
    expect(environ).toContain(`MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? "2"}`);
  });

  it("keeps its credentials out of /metrics", async () => {
    expect(credentials.DATABASE_URL).toContain(secrets[0]); // the processes really connect with it
    const metrics = await (await fetch(`http://127.0.0.1:${host.port}/metrics`)).text();
    for (const secret of secrets) expect(metrics).not.toContain(secret);
  });

  it("drains and exits 0 on SIGTERM, and no credential is in its log", async () => {
    expect(await host.stop()).toBe(0);
    const log = readFileSync(host.log, "utf8");
    expect(log).toContain("processor stopped");
    expect(log).toContain(`"database":"postgres://postgres:***@`);
    for (const secret of secrets) expect(log).not.toContain(secret);
  });
});
