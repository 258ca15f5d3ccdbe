/**
 * The reference services refuse a bad request body before it reaches the database: 400 with every problem named,
 * no type coercion, no unknown fields. (No database is reachable here: a request that got past validation would
 * fail with a 500 instead.)
 */
import pg from "pg";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { Outbox } from "../../../connectors/outbox-relay/outbox.ts";
import { AvroSerde, Metrics } from "../../../runtime/index.ts";
import { MemoryRegistry } from "../../../runtime/testing/index.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import { orderService } from "../../../services/orders/order-service.ts";
import { userService } from "../../../services/users/user-service.ts";
import { TOPICS } from "../../../topics/catalog.ts";

const db = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:1/none", connectionTimeoutMillis: 100 });
const deps = {
  db,
  outbox: new Outbox({ serde: new AvroSerde(new MemoryRegistry()), topics: TOPICS, schemas: loadSchemaFiles() }),
  log: pino({ level: "silent" }),
};
const orders = orderService({ ...deps, metrics: new Metrics() });
const users = userService({ ...deps, metrics: new Metrics() });

afterAll(async () => {
  await Promise.all([orders.close(), users.close()]);
  await db.end();
});

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
});
