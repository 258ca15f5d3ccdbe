/**
 * The demo's alert receiver: a local webhook that checks each delivery's signature and appends the alert, as JSON
 * lines, to .sluice/logs/alerts-received.jsonl. Its address and signing key are the alert sink's
 * ALERT_WEBHOOK_URL and ALERT_WEBHOOK_SECRET.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { ALERT_ID_HEADER, SIGNATURE_HEADER, signature, TIMESTAMP_HEADER } from "../../connectors/alerting/receivers.ts";
import { integerVar, textVar } from "../../runtime/index.ts";
import { RECEIVED } from "./demo-webhook-file.ts";

const port = integerVar(process.env, "SLUICE_DEMO_WEBHOOK_PORT", 9480, { max: 65_535 });
const secret = textVar(process.env, "ALERT_WEBHOOK_SECRET");
if (!secret) throw new Error("ALERT_WEBHOOK_SECRET is not set");
mkdirSync(path.dirname(RECEIVED), { recursive: true });

http
  .createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const timestamp = String(req.headers[TIMESTAMP_HEADER] ?? "");
      if (req.headers[SIGNATURE_HEADER] !== signature(secret, timestamp, body)) {
        res.writeHead(401).end();
        return;
      }
      appendFileSync(
        RECEIVED,
        `${JSON.stringify({ receivedAt: new Date().toISOString(), id: req.headers[ALERT_ID_HEADER], alert: JSON.parse(body) })}\n`,
      );
      res.writeHead(204).end();
    });
  })
  .listen(port, "127.0.0.1", () => console.log(`[webhook] receiving alerts on http://127.0.0.1:${port}/alerts`));
