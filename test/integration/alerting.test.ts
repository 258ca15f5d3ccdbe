/**
 * Alerting end to end on the real stack: log events → the rules (state in PostgreSQL, timers through the delay
 * tiers) → alerts → the alert sink → a local webhook receiver and SMTP server.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertRuleProcessors } from "../../connectors/alerting/alert-rules.ts";
import { alertSink } from "../../connectors/alerting/alert-sink.ts";
import { emailReceiver, webhookReceiver } from "../../connectors/alerting/receivers.ts";
import type { AlertRule } from "../../connectors/alerting/rules.ts";
import { CONNECTOR_MIGRATIONS } from "../../connectors/registry.ts";
import { type DelayRouter, Metrics, PostgresLedger, type ProcessorRunner, runtimeConfig } from "../../runtime/index.ts";
import type { LogEvent } from "../../schemas/types.generated.ts";
import { TOPICS } from "../../topics/catalog.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { MailServer, WebhookReceiver } from "../support/alert-receivers.ts";
import { dropTopics, eventually, produceMany, startDelayRouter, startRunner, testTopic } from "../support/runtime.ts";

const id = randomUUID().slice(0, 8);
const shop = `shop-${id}`;
const heartbeat = `heartbeat-${id}`;
const SECRET = "test-signing-key";
const rules: AlertRule[] = [
  {
    kind: "frequency",
    name: `errors-${id}`,
    severity: "WARNING",
    match: (e) => e.level === "ERROR",
    threshold: 50,
    window: "30s",
    repeatInterval: "6s",
    summary: (service) => `${service}: 50 errors within 30s`,
  },
  {
    kind: "flatline",
    name: `silent-${id}`,
    severity: "CRITICAL",
    match: (e) => e.appId === heartbeat,
    window: "4s",
    repeatInterval: "1h",
    summary: (service) => `${service} went silent`,
  },
];

let ledger: PostgresLedger;
let topic: BusinessTopic;
let webhook: WebhookReceiver;
let mail: MailServer;
let router: DelayRouter;
const runners: ProcessorRunner[] = [];

beforeAll(async () => {
  ledger = await PostgresLedger.connect(runtimeConfig().databaseUrl, CONNECTOR_MIGRATIONS);
  topic = await testTopic("alerting-logs", { partitions: 3, valueSchema: "sluice.logs.LogEvent", key: "appId" });
  webhook = new WebhookReceiver(SECRET);
  mail = new MailServer();
  const [webhookUrl, smtpUrl] = [await webhook.start(), await mail.start()];
  const catalog = [...TOPICS, topic];
  router = await startDelayRouter(new Metrics());
  for (const processor of alertRuleProcessors(rules, { name: `alert-rules-${id}`, input: topic.name })) {
    runners.push(await startRunner(processor, catalog, { ledger }));
  }
  const sink = alertSink({
    name: `alert-sink-${id}`,
    receivers: () => [
      webhookReceiver({ name: "webhook", url: webhookUrl, secret: SECRET, timeoutMs: 2_000 }),
      emailReceiver({ name: "email", smtpUrl, from: "alerts@shop.test", to: "oncall@shop.test" }),
    ],
  });
  runners.push(await startRunner(sink, catalog, { ledger }));
}, 120_000);

afterAll(async () => {
  for (const runner of runners) await runner.stop();
  await router?.stop();
  webhook?.stop();
  await mail?.stop();
  await dropTopics([topic]);
  await ledger?.close();
});

const log = (appId: string, level: LogEvent["level"], i: number): LogEvent => ({
  appId,
  timestamp: BigInt(Date.now()),
  level,
  message: `${level.toLowerCase()} ${i}`,
  logger: null,
  traceId: null,
  host: null,
  fields: {},
});

/** What the webhook got of this test's rules, by status, each id counted once (its idempotency key). */
const ours = () => webhook.distinctAlerts().filter((a) => a.includes(id));
const statusOf = (alertId: string) => alertId.split("/").at(-1);

describe("alerting", () => {
  it("50 errors from a service: one alert, reminders while they last, one resolved; a silent service alerts", async () => {
    await produceMany(topic, 1, () => log(heartbeat, "INFO", 0));
    await produceMany(topic, 50, (i) => log(shop, "ERROR", i));

    // The heartbeat service says nothing more: 4 s later it is silent.
    expect(await eventually(() => ours().some((a) => a.startsWith(`silent-${id}/${heartbeat}/`)), 30_000)).toBe(true);
    // Errors stop after the burst: the condition holds until the 30 s window has passed (a reminder every 6 s
    // meanwhile: how many depends on how soon the burst was processed), then clears.
    expect(await eventually(() => ours().some((a) => statusOf(a) === "resolved"), 60_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    const errors = ours().filter((a) => a.startsWith(`errors-${id}/${shop}/`));
    const reminders = errors.length - 2;
    expect(reminders).toBeGreaterThanOrEqual(1);
    const expected = ["firing", ...Array.from({ length: reminders }, (_, i) => `reminder-${i + 1}`), "resolved"];
    expect(errors.map(statusOf)).toEqual(expected);
    expect(ours()).toHaveLength(errors.length + 1);
    // Each alert once per receiver: one webhook call (signed) and one email each.
    const calls = webhook.calls.filter((c) => c.alertId.includes(id));
    expect(calls).toHaveLength(errors.length + 1);
    expect(calls.every((c) => c.signed)).toBe(true);
    expect(mail.mails.filter((m) => m.text.includes(id))).toHaveLength(errors.length + 1);
    const firing = calls.find((c) => statusOf(c.alertId) === "firing" && c.alertId.startsWith("errors"));
    expect(firing?.body).toMatchObject({ severity: "WARNING", source: shop, summary: `${shop}: 50 errors within 30s` });
  }, 120_000);
});
