/**
 * The container image (ops/container/Containerfile) against the real stack: one processor (`points`) runs in a
 * container on the host's network, as uid 10001, joins the local Kafka, answers /health/ready, handles the orders
 * this test produces, and on `podman stop` (SIGTERM) drains, commits and exits 0.
 *
 * Builds the image with ops/container/build.sh first (minutes the first time on a machine; podman's layer cache
 * makes it seconds afterwards). Run with the stack up (vitest.config.ts's `container` project), holding the
 * stack lock where the stack is shared: flock .sluice/scratch/stack.lock npx vitest run --project container
 * The processor's group is the catalog's own (`points`): nothing else may consume it meanwhile.
 */
import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantPoints } from "../../processors/points/grant-points.ts";
import { routeOf, runtimeConfig } from "../../runtime/index.ts";
import { kafka } from "../support/kafka.ts";
import { eventually, produceToCatalog } from "../support/runtime.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const IMAGE = process.env.SLUICE_IMAGE ?? "localhost/sluice:0.1.0";
/** As ops/container/build.sh runs podman on these machines: runc, and limits within the machine's hard limits. */
const PODMAN = ["--runtime", "runc", "--cgroup-manager", "cgroupfs"];
const LIMITS = ["--ulimit", "nofile=16384:16384", "--ulimit", "nproc=4096:4096"];
const ORDERS = 20;

const run = promisify(execFile);
const podman = async (...args: string[]) =>
  (await run("podman", [...PODMAN, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();

/** ops/container/build.sh, its output in .sluice/logs/container-build.log. */
async function build(): Promise<void> {
  const log = path.join(ROOT, ".sluice/logs/container-build.log");
  mkdirSync(path.dirname(log), { recursive: true });
  const out = openSync(log, "w");
  const child = spawn("bash", [path.join(ROOT, "ops/container/build.sh")], { cwd: ROOT, stdio: ["ignore", out, out] });
  closeSync(out);
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`ops/container/build.sh exited with ${code}; see ${log}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("the Sluice image", () => {
  const id = randomUUID().slice(0, 8);
  const name = `sluice-container-test-${id}`;
  const orderIds = Array.from({ length: ORDERS }, (_, i) => `container-${id}-${i}`);
  const route = routeOf(grantPoints);
  const config = runtimeConfig();
  let port: number;
  let db: pg.Pool;

  beforeAll(async () => {
    await build(); // always: the image must hold this checkout's code (a rebuild from podman's cache takes seconds)
    port = await freePort();
    db = new pg.Pool({ connectionString: config.databaseUrl });
    await podman(
      "run",
      "--detach",
      "--name",
      name,
      "--network",
      "host",
      ...LIMITS,
      ...["-e", `SLUICE_INSTANCE_ID=container-test-${id}`, "-e", `SLUICE_HTTP_PORT=${port}`],
      // On the host's network: /metrics and /health on its loopback only (the image listens on 0.0.0.0).
      ...["-e", "SLUICE_HTTP_HOST=127.0.0.1"],
      ...[
        "-e",
        `KAFKA_BROKERS=${config.kafkaBrokers.join(",")}`,
        "-e",
        `SCHEMA_REGISTRY_URL=${config.schemaRegistryUrl}`,
      ],
      ...["-e", `DATABASE_URL=${config.databaseUrl}`, "-e", `REDIS_URL=${config.redisUrl}`],
      IMAGE,
      "run",
      grantPoints.name,
    );
  }, 30 * 60_000);

  afterAll(async () => {
    await podman("rm", "--force", "--time", "0", name).catch(() => {});
    await db?.end();
  });

  it("runs the processor as uid 10001 and answers /health/ready", async () => {
    const ready = async () => {
      const status = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return true;
      if ((await podman("inspect", "--format", "{{.State.Running}}", name)) !== "true") {
        throw new Error(`the container exited:\n${await podman("logs", name)}`);
      }
      return false;
    };
    expect(await eventually(ready, 60_000)).toBe(true);
    expect(await podman("exec", name, "id", "-u")).toBe("10001");
  });

  it("consumes from the local Kafka and handles every record", async () => {
    await produceToCatalog(
      "orders.created",
      orderIds.map((orderId, i) => ({
        orderId,
        userId: `user-${id}-${i % 4}`,
        items: [{ sku: `sku-${id}`, quantity: 1, unitPriceCents: 1_000n }],
        totalCents: 1_000n,
        currency: "EUR",
        createdAt: BigInt(Date.now()),
      })),
    );
    const granted = async () =>
      Number(
        (await db.query("SELECT count(*) AS n FROM points_ledger WHERE order_id = ANY($1)", [orderIds])).rows[0]?.n,
      );
    expect(await eventually(async () => (await granted()) === ORDERS, 60_000)).toBe(true);
    // Handled by the container, not by some other member of the group.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const consumed = metrics.match(
      /^sluice_records_consumed_total\{processor="points",topic="orders\.created"\} (\d+)/m,
    );
    expect(Number(consumed?.[1])).toBeGreaterThanOrEqual(ORDERS);
  });

  it("drains and commits on podman stop (SIGTERM), and exits 0", async () => {
    // Past `sluice run`'s own 30s drain bound, so podman's SIGKILL never cuts a drain short.
    await podman("stop", "--time", "45", name);
    expect(await podman("inspect", "--format", "{{.State.ExitCode}}", name)).toBe("0");
    const logs = (await podman("logs", name))
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs).toContainEqual(expect.objectContaining({ signal: "SIGTERM", message: "draining" }));
    expect(logs).toContainEqual(
      expect.objectContaining({ "sluice.processor": "points", message: "processor stopped" }),
    );
    const admin = kafka.admin();
    await admin.connect();
    try {
      const committed = await admin.committedOffsets(route.group, [route.input]);
      const ends = await admin.topicOffsets(route.input);
      expect(ends.length).toBeGreaterThan(0);
      // Every partition consumed to its end; one that never held a record may have no commit at all.
      const behind = ends
        .map(({ partition, low, high }) => ({
          partition,
          end: high,
          committed: committed.find((c) => c.partition === partition)?.offset ?? "-1",
          empty: low === high,
        }))
        .filter((p) => p.committed !== p.end && !(p.committed === "-1" && p.empty));
      expect(behind).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });
});
