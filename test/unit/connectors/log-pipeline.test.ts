import { ecsFormat } from "@elastic/ecs-pino-format";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { bulkFailures } from "../../../connectors/elasticsearch/bulk-outcome.ts";
import { dayOfLogIndex, logDocument, logIndexOf } from "../../../connectors/elasticsearch/log-document.ts";
import { expiredLogIndices } from "../../../connectors/elasticsearch/retention.ts";
import { logEventOf } from "../../../connectors/log-shipper/log-line.ts";
import { classify } from "../../../runtime/index.ts";

const source = { service: "shop", host: "box-1", now: Date.UTC(2026, 10, 27, 12) };

/** What a pino logger with `options` writes for one call. */
function pinoLine(options: pino.LoggerOptions, write: (log: pino.Logger) => void): string {
  let line = "";
  const destination = {
    write(chunk: string) {
      line = chunk;
    },
  };
  write(pino(options, destination));
  return line;
}

describe("log lines as LogEvents", () => {
  it("reads an ECS line as @elastic/ecs-pino-format writes it, fields flattened to text", () => {
    const line = pinoLine({ ...ecsFormat(), name: "checkout" }, (log) =>
      log
        .child({ "trace.id": "t-1" })
        .error({ err: new Error("card declined"), orderId: "o-7", cart: { items: 3 } }, "payment failed"),
    );
    const event = logEventOf(line, source);
    expect(event).toMatchObject({
      appId: "shop",
      level: "ERROR",
      message: "payment failed",
      logger: "checkout",
      traceId: "t-1",
    });
    expect(event.host).toBeTruthy();
    expect(Math.abs(Number(event.timestamp) - Date.now())).toBeLessThan(60_000);
    expect(event.fields).toMatchObject({
      orderId: "o-7",
      "cart.items": "3",
      "error.type": "Error",
      "error.message": "card declined",
    });
    expect(event.fields["error.stack_trace"]).toContain("card declined");
    expect(Object.keys(event.fields)).not.toContain("ecs.version");
  });

  it("reads plain pino: numeric level, time and msg", () => {
    const line = JSON.stringify({ level: 40, time: 1_700_000_000_123, msg: "slow query", name: "db", ms: 812 });
    expect(logEventOf(line, source)).toEqual({
      appId: "shop",
      timestamp: 1_700_000_000_123n,
      level: "WARN",
      message: "slow query",
      logger: "db",
      traceId: null,
      host: "box-1",
      fields: { ms: "812" },
    });
  });

  it("keeps a line that is not JSON as its message, its level from a leading word", () => {
    expect(logEventOf("[ERROR] disk full", source)).toMatchObject({ level: "ERROR", message: "[ERROR] disk full" });
    expect(logEventOf("WARNING: retrying", source)).toMatchObject({ level: "WARN" });
    expect(logEventOf("GET /cart 200", source)).toMatchObject({ level: "INFO", timestamp: BigInt(source.now) });
    expect(logEventOf("{not json", source)).toMatchObject({ level: "INFO", message: "{not json" });
    expect(logEventOf("[1,2]", source)).toMatchObject({ message: "[1,2]" });
  });
});

describe("log documents", () => {
  const event = {
    appId: "shop",
    timestamp: BigInt(Date.UTC(2026, 10, 27, 23, 59, 59)),
    level: "ERROR" as const,
    message: "payment failed",
    logger: "checkout",
    traceId: "t-1",
    host: "box-1",
    fields: { "http.response.status_code": "502", "client.ip": "10.0.0.7", orderId: "o-7", "cart.items": "3" },
  };

  it("puts an event in its UTC day's index, with ECS fields, typed fields where the template types them", () => {
    const document = logDocument(event, "e-1");
    expect(document.index).toBe("logs-2026.11.27");
    expect(document.id).toBe("e-1");
    expect(document.source).toEqual({
      "@timestamp": "2026-11-27T23:59:59.000Z",
      message: "payment failed",
      log: { level: "error", logger: "checkout" },
      service: { name: "shop" },
      event: { id: "e-1" },
      trace: { id: "t-1" },
      host: { name: "box-1" },
      "http.response.status_code": "502",
      "client.ip": "10.0.0.7",
      labels: { orderId: "o-7", cart_items: "3" },
    });
  });

  it("names daily indices and reads them back, and nothing else", () => {
    expect(logIndexOf(Date.UTC(2027, 0, 3, 1))).toBe("logs-2027.01.03");
    expect(dayOfLogIndex("logs-2027.01.03")).toBe(Date.UTC(2027, 0, 3));
    for (const other of ["logs-2027.13.01", "logs-2027.02.30", "logs-x", "logs-2027.01.03-old", ".kibana"]) {
      expect(dayOfLogIndex(other)).toBeUndefined();
    }
  });

  it("expires an index once its whole day is older than the retention", () => {
    const now = Date.UTC(2026, 10, 27, 10);
    const week = 7 * 86_400_000;
    const indices = ["logs-2026.11.19", "logs-2026.11.20", "logs-2026.11.27", "logs-2025.01.01", "other-2020.01.01"];
    expect(expiredLogIndices(indices, week, now)).toEqual(["logs-2026.11.19", "logs-2025.01.01"]);
  });
});

describe("bulk outcomes", () => {
  it("rejects mapping and parsing errors for good with Elasticsearch's type and reason; 429 and 5xx pass", () => {
    const { failures } = bulkFailures([
      { status: 201 },
      {
        status: 400,
        error: {
          type: "document_parsing_exception",
          reason: "[1:2] failed to parse field [client.ip] of type [ip]",
          caused_by: { type: "illegal_argument_exception", reason: "'nope' is not an IP string literal." },
        },
      },
      { status: 429, error: { type: "es_rejected_execution_exception", reason: "queue full" } },
      { status: 503, error: { type: "unavailable_shards_exception", reason: "primary shard is not active" } },
      { status: 200 },
    ]);
    expect(failures.map((f) => f.index)).toEqual([1, 2, 3]);
    const [rejected, busy, down] = failures.map((f) => classify(f.error));
    expect(rejected).toEqual({
      permanent: true,
      errorClass: "document_parsing_exception",
      errorMessage:
        "Elasticsearch 400 document_parsing_exception: [1:2] failed to parse field [client.ip] of type [ip] — illegal_argument_exception: 'nope' is not an IP string literal.",
    });
    expect(busy?.permanent).toBe(false);
    expect(down?.permanent).toBe(false);
  });
});
