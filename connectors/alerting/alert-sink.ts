/**
 * `alert-sink`: delivers each alert on `alerts` to every configured receiver, once per (alert, receiver) through
 * ctx.once (the PostgreSQL ledger): an alert retried after its email failed does not call the webhook again. A
 * receiver failing in a way that may pass sends the alert through the retry tiers (5s, 1m, 10m), then the DLQ; a
 * refusal for good (a webhook's 4xx) sends it to the DLQ at once, once every receiver has had its try; so does an
 * alert that finds no receiver configured, to be replayed once one is.
 */
import { classify, PermanentError, type Processor } from "../../runtime/index.ts";
import { defineProcessor } from "../define.ts";
import { connectorSettings } from "../settings.ts";
import { emailReceiver, type Receiver, webhookReceiver } from "./receivers.ts";

let configured: readonly Receiver[] | undefined;

/** The receivers the environment configures (ALERT_WEBHOOK_URL, ALERT_SMTP_URL), built once. */
function configuredReceivers(): readonly Receiver[] {
  if (!configured) {
    const { alertWebhook, alertEmail } = connectorSettings();
    configured = [
      ...(alertWebhook ? [webhookReceiver({ name: "webhook", ...alertWebhook })] : []),
      ...(alertEmail ? [emailReceiver({ name: "email", ...alertEmail })] : []),
    ];
  }
  return configured;
}

export interface AlertSinkOptions {
  /** Default: alert-sink (its group too). */
  name?: string;
  /** A topic of `Alert` values to read instead of alerts. */
  input?: string;
  /** Default: the configured receivers. */
  receivers?: () => readonly Receiver[];
}

export function alertSink({ name = "alert-sink", input, receivers = configuredReceivers }: AlertSinkOptions = {}) {
  const processor = defineProcessor({
    name,
    input: "alerts",
    ledger: "postgres",
    async handler({ value: alert }, ctx) {
      const targets = receivers();
      if (targets.length === 0) {
        throw new PermanentError("no alert receiver is configured (ALERT_WEBHOOK_URL, ALERT_SMTP_URL)", "NO_RECEIVERS");
      }
      // Every receiver gets its try, whatever the others do; a failure counts once all have had theirs.
      const failures: unknown[] = [];
      for (const receiver of targets) {
        try {
          await ctx.once(`alert:${alert.alertId}:${receiver.name}`, async () => {
            await receiver.deliver(alert, ctx.signal);
            ctx.log.info({ "sluice.alert": alert.alertId, receiver: receiver.name }, "alert delivered");
          });
        } catch (error) {
          failures.push(error);
        }
      }
      // One that may pass sends the alert to a retry tier; the receivers that took it are not called again.
      const [first] = failures;
      if (first !== undefined) throw failures.find((f) => !classify(f).permanent) ?? first;
    },
  });
  const runnable: Processor = input ? { ...processor, input } : processor;
  return runnable;
}
