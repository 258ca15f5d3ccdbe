/**
 * A registry behind basic auth, addressed as `https://user:password@registry/...` (how SCHEMA_REGISTRY_URL carries
 * credentials): the client sends them as an Authorization header (fetch refuses a URL with credentials), keeps them
 * out of its address, and a refusal says so in one line without them.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SchemaRegistryClient } from "../../schemas/registry-client.ts";

const seen: (string | undefined)[] = [];
const server = createServer((request, response) => {
  seen.push(request.headers.authorization);
  const ok = request.headers.authorization === `Basic ${Buffer.from("sluice:p@ss word").toString("base64")}`;
  response.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
  response.end(ok ? '["orders.created-value"]' : '{"message":"Unauthorized"}');
});
let port = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("schema registry credentials", () => {
  it("go as basic auth, not in the address", async () => {
    const client = new SchemaRegistryClient(`http://sluice:p%40ss%20word@127.0.0.1:${port}/apis/ccompat/v7/`);
    expect(client.url).toBe(`http://127.0.0.1:${port}/apis/ccompat/v7`);
    expect(await client.subjects()).toEqual(["orders.created-value"]);
  });

  it("wrong ones are a one-line refusal that does not repeat them", async () => {
    const client = new SchemaRegistryClient(`http://sluice:wrong-pw@127.0.0.1:${port}/apis/ccompat/v7`);
    const error = (await client.subjects().then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(error).toMatchObject({ code: "REGISTRY_REJECTED", status: 401 });
    expect(error.message).toContain("401 Unauthorized");
    expect(error.message).not.toContain("wrong-pw");
    expect(error.message.split("\n")).toHaveLength(1);
  });
});
