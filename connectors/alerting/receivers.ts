/**
 * Where an alert is delivered: a webhook (HTTP POST of the alert as JSON, HMAC-signed, with a timeout) or email
 * (SMTP through nodemailer). A receiver's verdict on a failure decides the alert's way: a refusal that will not
 * change (a 4xx other than 408 and 429, an SMTP 5xx) is permanent and sends the alert to the DLQ; anything else
 * (a timeout, a refused connection, 408, 429, 5xx, an SMTP 4xx) passes, and the alert moves through the retry tiers.
 * Each request carries the alert's id, so a receiver can tell a delivery repeated after a crash from a new alert.
 */
import { createHmac } from "node:crypto";
import nodemailer from "nodemailer";
import { PermanentError, RetryableError } from "../../runtime/index.ts";
import type { Alert } from "../../schemas/types.generated.ts";

export interface Receiver {
  /** Part of the idempotency key: an alert is delivered once per receiver. */
  name: string;
  deliver(alert: Alert, signal: AbortSignal): Promise<void>;
}

/** The alert as receivers get it: JSON, its time as ISO-8601. */
export function alertJson(alert: Alert) {
  return { ...alert, raisedAt: new Date(Number(alert.raisedAt)).toISOString() };
}

export const SIGNATURE_HEADER = "x-sluice-signature";
export const TIMESTAMP_HEADER = "x-sluice-timestamp";
export const ALERT_ID_HEADER = "x-sluice-alert-id";

/** `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>`: a receiver checks it, and the timestamp's age. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export function webhookReceiver(options: { name: string; url: string; secret: string; timeoutMs: number }): Receiver {
  return {
    name: options.name,
    async deliver(alert, signal) {
      const body = JSON.stringify(alertJson(alert));
      const timestamp = String(Date.now());
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [ALERT_ID_HEADER]: alert.alertId,
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: signature(options.secret, timestamp, body),
          },
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
        });
      } catch (error) {
        throw new RetryableError(`webhook ${options.name}: ${(error as Error).message}`, "WEBHOOK_UNREACHABLE", {
          cause: error,
        });
      }
      await response.body?.cancel();
      if (response.ok) return;
      const why = `webhook ${options.name} answered ${response.status} ${response.statusText}`;
      const passes = response.status === 408 || response.status === 429 || response.status >= 500;
      throw passes
        ? new RetryableError(why, `WEBHOOK_${response.status}`)
        : new PermanentError(why, `WEBHOOK_${response.status}`);
    },
  };
}

export function emailReceiver(options: { name: string; smtpUrl: string; from: string; to: string }): Receiver {
  const transport = nodemailer.createTransport(options.smtpUrl);
  return {
    name: options.name,
    async deliver(alert) {
      const json = alertJson(alert);
      try {
        await transport.sendMail({
          from: options.from,
          to: options.to,
          subject: `[${alert.severity}] ${alert.summary}`,
          text: [
            alert.summary,
            "",
            `source: ${alert.source}`,
            `raised at: ${json.raisedAt}`,
            ...Object.entries(alert.details).map(([k, v]) => `${k}: ${v}`),
          ].join("\n"),
          // The same alert always makes the same message id: mail systems tell a repeat from a new alert.
          messageId: `<${alert.alertId}.${options.name}@sluice>`,
          headers: { "X-Sluice-Alert-Id": alert.alertId },
        });
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        const why = `email ${options.name}: ${(error as Error).message}`;
        if (code !== undefined && code >= 500) throw new PermanentError(why, `SMTP_${code}`, { cause: error });
        throw new RetryableError(why, code === undefined ? "SMTP_UNREACHABLE" : `SMTP_${code}`, { cause: error });
      }
    },
  };
}
