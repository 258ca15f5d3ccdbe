/**
 * The alert sink on the real stack: alerts from Kafka to a local webhook receiver and a local SMTP server, once per
 * (alert, receiver) through the PostgreSQL ledger, whatever fails or is killed on the way.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { alertSink } from "../../connectors/alerting/alert-sink.ts";
import { emailReceiver, webhookReceiver } from "../../connectors/alerting/receivers.ts";
import { HEADER, PostgresLedger, type ProcessorRunner, runtimeConfig } from "../../runtime/index.ts";
import type { Alert } from "../../schemas/types.generated.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { MailServer, WebhookReceiver } from "../support/alert-receivers.ts";
import { consumeUntil } from "../support/kafka.ts";
import { dropTopics, eventually, produceMany, startRunner, testTopic } from "../support/runtime.ts";
import { killStrays, startSluiceRun } from "../support/sluice-run.ts";

const SECRET = "test-signing-key";
let ledger: PostgresLedger;
let webhook: WebhookReceiver;
let mail: MailServer;
let urls: { webhook: string; smtp: string };
let runner: ProcessorRunner | undefined;
const created: BusinessTopic[] = [];

beforeAll(async () => {
  ledger = await PostgresLedger.connect(runtimeConfig().databaseUrl);
});

afterAll(() => ledger.close());

afterEach(async () => {
  await runner?.stop();
  runner = undefined;
  await killStrays();
  webhook?.stop();
  await mail?.stop();
  await dropTopics(created.splice(0));
});

async function setUp(): Promise<BusinessTopic> {
  webhook = new WebhookReceiver(SECRET);
  mail = new MailServer();
  urls = { webhook: await webhook.start(), smtp: await mail.start() };
  const topic = await testTopic("alerts", { valueSchema: "sluice.alerts.Alert", key: "alertId" });
  created.push(topic);
  return topic;
}

const alert = (alertId: string): Alert => ({
  alertId,
  severity: "CRITICAL",
  source: "checkout",
  summary: "50 errors in a minute",
  details: { rule: "errors-per-service", count: "50" },
  raisedAt: BigInt(Date.UTC(2026, 10, 27, 10)),
});

async function startSink(topic: BusinessTopic) {
  const definition = alertSink({
    name: `alert-sink-${topic.name}`,
    input: topic.name,
    receivers: () => [
      webhookReceiver({ name: "webhook", url: urls.webhook, secret: SECRET, timeoutMs: 2_000 }),
      emailReceiver({ name: "email", smtpUrl: urls.smtp, from: "alerts@shop.test", to: "oncall@shop.test" }),
    ],
  });
  runner = await startRunner(definition, [topic], { ledger });
  return definition;
}

describe("alert sink", () => {
  it("delivers an alert once to a signed webhook and by email; a refused email retries without calling the webhook again", async () => {
    const topic = await setUp();
    mail.failWith = [451];
    await startSink(topic);
    const id = `alert-${randomUUID()}`;
    await produceMany(topic, 1, () => alert(id));

    expect(await eventually(() => mail.mails.length === 1, 30_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(webhook.calls).toEqual([
      {
        alertId: id,
        signed: true,
        body: expect.objectContaining({ alertId: id, severity: "CRITICAL", raisedAt: "2026-11-27T10:00:00.000Z" }),
      },
    ]);
    expect(mail.mails).toEqual([
      { to: "oncall@shop.test", text: expect.stringContaining("Subject: [CRITICAL] 50 errors in a minute") },
    ]);
  });

  it("sends an alert a webhook refuses for good to the DLQ with the reason, once the email went out", async () => {
    const topic = await setUp();
    webhook.failWith = [400];
    const definition = await startSink(topic);
    const id = `alert-${randomUUID()}`;
    await produceMany(topic, 1, () => alert(id));

    const dlq = await consumeUntil(`${topic.name}.${definition.name}.dlq`, (r) => r.length >= 1, 30_000, 500);
    expect(dlq.map((r) => [r.key, r.headers[HEADER.errorClass]])).toEqual([[id, "WEBHOOK_400"]]);
    expect(dlq[0]?.headers[HEADER.errorMessage]).toMatch(/answered 400/);
    expect(mail.mails).toHaveLength(1);
  });

  it("delivers to each receiver once though the sink is SIGKILLed while the webhook is answering", async () => {
    const topic = await setUp();
    webhook.delayMs = 5_000;
    const name = `alert-sink-${topic.name}`;
    const env = {
      TEST_ALERT_TOPIC: topic.name,
      TEST_ALERT_SINK: name,
      ALERT_WEBHOOK_URL: urls.webhook,
      ALERT_WEBHOOK_SECRET: SECRET,
      ALERT_SMTP_URL: urls.smtp,
      ALERT_EMAIL_TO: "oncall@shop.test",
      SLUICE_INSTANCE_ID: name,
    };
    const run = () => startSluiceRun(["--module", "test/support/alert-sink-module.ts", name], env);
    const first = run();
    await first.ready();
    const id = `alert-${randomUUID()}`;
    await produceMany(topic, 1, () => alert(id));
    expect(await eventually(() => webhook.calls.length === 1, 30_000)).toBe(true);
    await first.kill(); // the webhook has the request; the ledger does not have its answer
    webhook.delayMs = 0;

    const second = run();
    await second.ready();
    expect(await eventually(() => mail.mails.length === 1, 30_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await second.stop();
    // The webhook may see the request again (its answer died with the first process), under the same alert id:
    // the id is its idempotency key. The email, after it, went out once.
    expect(webhook.distinctAlerts()).toEqual([id]);
    expect(webhook.calls.length).toBeLessThanOrEqual(2);
    expect(webhook.calls.every((c) => c.signed)).toBe(true);
    expect(mail.mails).toHaveLength(1);
  }, 120_000);
});
