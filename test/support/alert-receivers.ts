/**
 * A local webhook receiver and a local SMTP server, as an alert's receivers: they record what they got, check
 * the webhook's signature, and fail when the test says.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { ALERT_ID_HEADER, SIGNATURE_HEADER, signature, TIMESTAMP_HEADER } from "../../connectors/alerting/receivers.ts";

export interface WebhookCall {
  alertId: string;
  body: Record<string, unknown>;
  signed: boolean;
}

export class WebhookReceiver {
  readonly calls: WebhookCall[] = [];
  /** Answers the next requests with this status instead of 200. */
  failWith: number[] = [];
  /** Holds each answer this long. */
  delayMs = 0;
  private readonly server: http.Server;
  private readonly secret: string;

  constructor(secret: string) {
    this.secret = secret;
    this.server = http.createServer((req, res) => {
      let text = "";
      req.on("data", (chunk) => {
        text += chunk;
      });
      req.on("end", () => {
        const timestamp = String(req.headers[TIMESTAMP_HEADER] ?? "");
        this.calls.push({
          alertId: String(req.headers[ALERT_ID_HEADER] ?? ""),
          body: JSON.parse(text),
          signed: req.headers[SIGNATURE_HEADER] === signature(this.secret, timestamp, text),
        });
        setTimeout(() => {
          res.writeHead(this.failWith.shift() ?? 200);
          res.end();
        }, this.delayMs);
      });
    });
  }

  /** Alert ids called, each once however often it came (the alert id is the receiver's idempotency key). */
  distinctAlerts(): string[] {
    return [...new Set(this.calls.map((c) => c.alertId))];
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/alerts`;
  }

  stop(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

export interface Mail {
  to: string;
  text: string;
}

export class MailServer {
  readonly mails: Mail[] = [];
  /** Answers the next messages' data with this SMTP code (451: try later; 550: never) instead of accepting them. */
  failWith: number[] = [];
  private readonly server: SMTPServer;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onData: (stream, session, callback) => {
        let text = "";
        stream.on("data", (chunk) => {
          text += chunk;
        });
        stream.on("end", () => {
          const code = this.failWith.shift();
          if (code) {
            callback(Object.assign(new Error(`test server refuses (${code})`), { responseCode: code }));
            return;
          }
          this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(","), text });
          callback();
        });
      },
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", () => resolve()));
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
