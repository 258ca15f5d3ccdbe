/**
 * The reference services refuse a bad request body before it reaches the database: 400 with every problem named,
 * no type coercion, no unknown fields. (No database is reachable here: a request that got past validation would
 * fail with a 500 instead.)
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { Outbox } from "../../../connectors/outbox-relay/outbox.ts";
import { SaleStore } from "../../../processors/flashsale/sale-store.ts";
import { LocalMediaStore } from "../../../processors/videos/media-store.ts";
import { AvroSerde, Metrics, type Producer } from "../../../runtime/index.ts";
import { MemoryRegistry } from "../../../runtime/testing/index.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import { flashSaleGateway } from "../../../services/flashsale/flashsale-gateway.ts";
import { orderService } from "../../../services/orders/order-service.ts";
import { userService } from "../../../services/users/user-service.ts";
import { videoService } from "../../../services/videos/video-service.ts";
import { TOPICS } from "../../../topics/catalog.ts";

const db = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:1/none", connectionTimeoutMillis: 100 });
const deps = {
  db,
  outbox: new Outbox({ serde: new AvroSerde(new MemoryRegistry()), topics: TOPICS, schemas: loadSchemaFiles() }),
  log: pino({ level: "silent" }),
};
const orders = orderService({ ...deps, metrics: new Metrics() });
const users = userService({ ...deps, metrics: new Metrics() });
const media = new LocalMediaStore(mkdtempSync(path.join(tmpdir(), "sluice-media-")));
const videos = videoService({ ...deps, store: media, maxBytes: 1_000, metrics: new Metrics() });
// No Redis and no Kafka behind it: a purchase that gets past validation and the rate limit finds Redis unreachable.
const store = new SaleStore("redis://127.0.0.1:1", { failFast: true });
const producer: Producer = {
  connect: async () => {},
  send: async () => {},
  transaction: () => Promise.reject(new Error("no transactions here")),
  disconnect: async () => {},
};
const schema = loadSchemaFiles().get("sluice.flashsale.FlashSalePurchase");
if (!schema) throw new Error("no FlashSalePurchase schema");
const gateway = flashSaleGateway({
  ...deps,
  ...{ store, producer, schema, serde: new AvroSerde(new MemoryRegistry()), metrics: new Metrics(), rate: 1, burst: 1 },
});

afterAll(async () => {
  await Promise.all([orders.close(), users.close(), videos.close(), gateway.close()]);
  store.redis.disconnect();
  await db.end();
});

/** A multipart/form-data body of `fields` and, when given, a file part of `bytes`. */
function multipart(fields: Record<string, string>, bytes?: number) {
  const parts = Object.entries(fields).map(
    ([name, value]) => `--b\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  const file =
    bytes === undefined
      ? []
      : [
          Buffer.from(
            '--b\r\nContent-Disposition: form-data; name="file"; filename="v.mp4"\r\nContent-Type: video/mp4\r\n\r\n',
          ),
          Buffer.alloc(bytes, 1),
          Buffer.from("\r\n"),
        ];
  return {
    headers: { "content-type": "multipart/form-data; boundary=b" },
    payload: Buffer.concat([Buffer.from(parts.join("")), ...file, Buffer.from("--b--\r\n")]),
  };
}

const good = { requestId: "r-1", userId: "u-1", items: [{ sku: "s-1", quantity: 1, unitPriceCents: 100 }] };

describe("request validation of the reference services", () => {
  it.each([
    ["no items", { ...good, items: [] }, /items must NOT have fewer than 1 items/],
    ["a quantity as text", { ...good, items: [{ ...good.items[0], quantity: "2" }] }, /quantity must be integer/],
    ["a quantity of zero", { ...good, items: [{ ...good.items[0], quantity: 0 }] }, /quantity must be >= 1/],
    ["a negative price", { ...good, items: [{ ...good.items[0], unitPriceCents: -1 }] }, /unitPriceCents must be >= 0/],
    ["an unknown field", { ...good, coupon: "FREE" }, /must NOT have additional properties/],
    ["a currency that is no code", { ...good, currency: "euro" }, /currency must match pattern/],
    ["no requestId", { userId: "u-1", items: good.items }, /must have required property 'requestId'/],
  ])("POST /orders with %s is a 400 naming it", async (_, body, problem) => {
    const response = await orders.inject({ method: "POST", url: "/orders", payload: body });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(problem);
  });

  it("PUT /users/:id/status with an unknown status or a malformed email is a 400 naming both", async () => {
    const response = await users.inject({
      method: "PUT",
      url: "/users/u-1/status",
      payload: { status: "BANNED", email: "not an email" },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/status must be equal to one of the allowed values/);
    expect(response.json().message).toMatch(/email must match pattern/);
  });

  it("a good body gets past validation, to the database, which is not there: a 500 without its internals", async () => {
    const response = await orders.inject({ method: "POST", url: "/orders", payload: good });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      code: "INTERNAL",
      message: expect.stringMatching(/^the service could not complete the request \(request req-\w+\); see its log$/),
    });
  });

  it("POST /videos refuses what is not multipart (415), a missing userId or file (400), and a file too large (413)", async () => {
    const json = await videos.inject({ method: "POST", url: "/videos", payload: { userId: "u-1" } });
    expect([json.statusCode, json.json().code]).toEqual([415, "NOT_MULTIPART"]);
    const noUser = await videos.inject({ method: "POST", url: "/videos", ...multipart({}, 10) });
    expect([noUser.statusCode, noUser.json().message]).toEqual([400, "userId is missing"]);
    const noFile = await videos.inject({ method: "POST", url: "/videos", ...multipart({ userId: "u-1" }) });
    expect([noFile.statusCode, noFile.json().message]).toEqual([400, "the file part is missing"]);
    const large = await videos.inject({ method: "POST", url: "/videos", ...multipart({ userId: "u-1" }, 1_001) });
    expect([large.statusCode, large.json().code]).toEqual([413, "VIDEO_TOO_LARGE"]);
    const rendition = await videos.inject({ method: "GET", url: "/videos/v-1/renditions/1080p.mp4" });
    expect(rendition.statusCode).toBe(400);
  });

  it("POST /flash-sales/:id/purchases: a bad body is a 400, Redis out of reach a 503, past the rate a 429", async () => {
    const url = "/flash-sales/s-1/purchases";
    const purchase = { userId: "u-1", sku: "sku-1", quantity: 1, requestId: "r-1" };
    const text = await gateway.inject({ method: "POST", url, payload: { ...purchase, quantity: "1" } });
    expect([text.statusCode, text.json().message]).toEqual([400, "body/quantity must be integer"]);
    const extra = await gateway.inject({ method: "POST", url, payload: { ...purchase, coupon: "x" } });
    expect(extra.statusCode).toBe(400);
    const closed = await gateway.inject({ method: "POST", url, payload: purchase });
    expect([closed.statusCode, closed.json().code]).toEqual([503, "UNAVAILABLE"]);
    const limited = await gateway.inject({ method: "POST", url, payload: purchase });
    expect([limited.statusCode, limited.headers["retry-after"]]).toEqual([429, "1"]);
  });
});
