/**
 * Data sync across services on the real stack: the user service changes users through the outbox onto users.status;
 * the user-directory processor keeps a read model of them, newest version first; an order naming a user the
 * directory does not have yet waits in a retry tier until the user arrives; a rebuild from the compacted topic
 * gives the same table. Records other teams' producers send in other formats go to the processor's DLQ, and a
 * rebuild skips and counts them.
 */

import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEADER, runtimeConfig } from "../../runtime/index.ts";
import { consumeUntil, produceRaw } from "../support/kafka.ts";
import { eventually, produceToCatalog } from "../support/runtime.ts";
import { killChildren, startRelay, startService } from "../support/services.ts";
import { killStrays, type RunningHost, startSluiceRun } from "../support/sluice-run.ts";

const db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl });
const run = randomUUID().slice(0, 8);
let host: RunningHost;
let users: string;

beforeAll(async () => {
  host = startSluiceRun(["user-directory", "email", "email-sender"]);
  startRelay();
  users = (await startService("users")).url;
  await host.ready();
});

afterAll(async () => {
  killChildren();
  await killStrays();
  await db.end();
});

const setStatus = async (userId: string, status: string, email?: string) => {
  const response = await fetch(`${users}/users/${userId}/status`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(email ? { status, email } : { status }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { version: number };
};
const directoryRow = async (userId: string) =>
  (
    await db.query<{ status: string; email: string | null; version: string }>(
      "SELECT status, email, version FROM user_directory WHERE user_id = $1",
      [userId],
    )
  ).rows[0];

describe("data sync: users.status to the user directory", () => {
  it("brings each change to the read model, and ignores a late older version", async () => {
    const userId = `ada-${run}`;
    expect((await setStatus(userId, "ACTIVE", "ada@shop.test")).version).toBe(1);
    expect(await eventually(async () => (await directoryRow(userId))?.version === "1")).toBe(true);
    expect((await setStatus(userId, "SUSPENDED")).version).toBe(2);
    expect(await eventually(async () => (await directoryRow(userId))?.status === "SUSPENDED")).toBe(true);
    expect(await directoryRow(userId)).toEqual({ status: "SUSPENDED", email: "ada@shop.test", version: "2" });

    // A copy of version 1 arrives late (another producer, a replay): read, then ignored.
    const [late] = await produceToCatalog("users.status", [
      { userId, status: "ACTIVE", email: "old@shop.test", updatedAt: 1n, version: 1n },
    ]);
    const processed = async () =>
      (
        await db.query("SELECT 1 FROM sluice_ledger WHERE group_name = 'user-directory' AND key = $1", [
          `user:${late?.eventId}`,
        ])
      ).rowCount === 1;
    expect(await eventually(processed)).toBe(true);
    expect(await directoryRow(userId)).toEqual({ status: "SUSPENDED", email: "ada@shop.test", version: "2" });
  });

  it("holds an order of an unknown user in a retry tier until the user arrives, then emails them", async () => {
    const userId = `late-${run}`;
    const orderId = `sync-${run}`;
    await produceToCatalog("orders.created", [
      {
        orderId,
        userId,
        items: [{ sku: "sku-sync", quantity: 1, unitPriceCents: 100n }],
        totalCents: 100n,
        currency: "EUR",
        createdAt: BigInt(Date.now()),
      },
    ]);
    const retried = async () =>
      /sluice_retries_total\{processor="email",topic="orders\.created\.email\.retry\.5s"\} [1-9]/.test(
        await (await fetch(`http://127.0.0.1:${host.port}/metrics`)).text(),
      );
    expect(await eventually(retried)).toBe(true);
    await setStatus(userId, "ACTIVE", "late@shop.test");
    const sent = async () =>
      (
        await db.query<{ recipient: string }>("SELECT recipient FROM emails_sent WHERE email_id = $1", [
          `order-confirmation:${orderId}`,
        ])
      ).rows;
    expect(await eventually(async () => (await sent()).length > 0, 60_000)).toBe(true);
    expect(await sent()).toEqual([{ recipient: "late@shop.test" }]);
  });

  it("sends records in other formats to its DLQ, goes on with the next change, and a rebuild skips and counts them", async () => {
    const json = `json-${run}`;
    const unknownId = `unknown-id-${run}`;
    const frame = Buffer.alloc(9);
    frame.writeUInt32BE(2_000_000_000, 1); // magic byte 0, then a schema id the registry never gave
    const eventId = (): [string, Buffer][] => [[HEADER.eventId, Buffer.from(randomUUID())]];
    await produceRaw("users.status", [
      { key: json, value: Buffer.from(JSON.stringify({ userId: json, status: "ACTIVE" })), headers: eventId() },
      { key: unknownId, value: frame, headers: eventId() },
    ]);
    const userId = `after-${run}`;
    await setStatus(userId, "ACTIVE", "after@shop.test");
    expect(await eventually(async () => (await directoryRow(userId))?.version === "1")).toBe(true);
    const dlq = await consumeUntil("users.status.user-directory.dlq", (records) =>
      [json, unknownId].every((key) => records.some((r) => r.key === key)),
    );
    const classes = Object.fromEntries(
      dlq.filter((r) => r.key === json || r.key === unknownId).map((r) => [r.key, r.headers[HEADER.errorClass]]),
    );
    expect(classes).toEqual({ [json]: "BAD_MAGIC_BYTE", [unknownId]: "UNKNOWN_SCHEMA_ID" });

    const { stdout } = await promisify(execFile)(process.execPath, ["ops/cli/sluice.ts", "users", "rebuild"]);
    const skipped = /skipped \d+ records that could not be decoded \((.*)\)/.exec(stdout)?.[1] ?? "";
    expect(skipped).toMatch(/BAD_MAGIC_BYTE: [1-9]/);
    expect(skipped).toMatch(/UNKNOWN_SCHEMA_ID: [1-9]/);
    expect(await directoryRow(userId)).toEqual({ status: "ACTIVE", email: "after@shop.test", version: "1" });
    // Tombstones, so that compaction drops them from this cluster's topic.
    await produceRaw("users.status", [
      { key: json, value: null },
      { key: unknownId, value: null },
    ]);
  });

  it("rebuilds the same table from the compacted topic", async () => {
    const table = async () =>
      (await db.query("SELECT user_id, status, email, version, event_id, updated_at FROM user_directory ORDER BY 1"))
        .rows;
    const rebuild = async () => {
      const { stdout } = await promisify(execFile)(process.execPath, ["ops/cli/sluice.ts", "users", "rebuild"]);
      expect(stdout).toMatch(/user directory rebuilt from users\.status: \d+ records, \d+ users/);
    };
    // First the table as this cluster's topic has it: a local database can outlive a cluster, or serve another.
    await rebuild();
    // A change through the processor on top of it, then the table rebuilt again from the topic alone.
    const userId = `ada-${run}`;
    expect((await setStatus(userId, "ACTIVE")).version).toBe(3);
    expect(await eventually(async () => (await directoryRow(userId))?.version === "3")).toBe(true);
    const before = await table();
    expect(before.length).toBeGreaterThanOrEqual(2);
    await rebuild();
    expect(await table()).toEqual(before);
  });
});
