/** What the processors did with the demo traffic, read from PostgreSQL and the processors' /metrics. */
import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { runtimeConfig } from "../../runtime/index.ts";
import { stackConfig } from "../stack/stack-config.ts";

const port = Number(process.argv[2] || 9400);
const demoOrders = path.join(stackConfig().runDir, "demo-orders.json");
const { orders } = JSON.parse(readFileSync(demoOrders, "utf8")) as { orders: string[] };
const db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl });
try {
  const states = await db.query<{ state: string; n: string }>(
    "SELECT state, count(*) AS n FROM order_states WHERE order_id = ANY($1) GROUP BY 1 ORDER BY 1",
    [orders],
  );
  console.log(`order states:    ${states.rows.map((r) => `${r.state} ${r.n}`).join(", ")}`);
  const emails = await db.query<{ recipient: string; template: string; sent_at: Date }>(
    "SELECT recipient, template, sent_at FROM emails_sent WHERE email_id = ANY($1) ORDER BY sent_at",
    [orders.flatMap((o) => [`order-confirmation:${o}`, `order-out-of-stock:${o}`])],
  );
  const confirmations = emails.rows.filter((r) => r.template === "order-confirmation");
  const flaky = confirmations.find((r) => r.recipient.includes("+flaky"));
  const first = confirmations[0]?.sent_at.getTime() ?? 0;
  console.log(
    `emails sent:     ${confirmations.length} confirmations of ${orders.length} orders` +
      (flaky
        ? `; the flaky one (${flaky.recipient}) went out ${((flaky.sent_at.getTime() - first) / 1000).toFixed(1)}s after the first, through the retry tier`
        : ""),
  );
  const refused = emails.rows.filter((r) => r.template === "order-out-of-stock");
  console.log(`out of stock:    ${refused.map((r) => r.recipient).join(", ") || "none"} told their order was refused`);
  const released = await db.query<{ order_id: string }>(
    "SELECT DISTINCT order_id FROM stock_reservations WHERE order_id = ANY($1) AND released_at IS NOT NULL ORDER BY 1",
    [orders],
  );
  console.log(`cancelled:       ${released.rows.map((r) => r.order_id).join(", ") || "none yet"} (stock restored)`);
  const points = await db.query<{ n: string }>("SELECT count(*) AS n FROM points_ledger WHERE order_id = ANY($1)", [
    orders,
  ]);
  console.log(`points granted:  ${points.rows[0]?.n} ledger rows for ${orders.length} orders`);
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  const interesting = metrics
    .split("\n")
    .filter((l) => /^sluice_(retries_total|dlq_total|delay_lateness_seconds_count)/.test(l));
  console.log(`metrics:\n  ${interesting.join("\n  ") || "(none)"}`);
} finally {
  await db.end();
}
