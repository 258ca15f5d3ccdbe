/**
 * `sluice dashboard` in real headless Chromium (Debian's, driven by playwright-core) against the real stack: the
 * page loads, shows a processor's lag once records wait for it, and a replay started from the page (a dry run,
 * then the confirmation) moves a DLQ record back into its group, which processes it. Screenshots are kept in
 * .sluice/artifacts/dashboard/.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { get } from "node:http";
import path from "node:path";
import pg from "pg";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, startDashboard } from "../../ops/dashboard/dashboard.ts";
import { DLQ_MIGRATIONS, type DlqDeps, readDlq } from "../../ops/dlq/dlq.ts";
import { LagMonitor } from "../../ops/lag/lag-monitor.ts";
import {
  AvroSerde,
  migrate,
  PermanentError,
  type ProcessorRunner,
  routeOf,
  runtimeConfig,
} from "../../runtime/index.ts";
import { TOPICS } from "../../topics/catalog.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { consumeUntil, kafka } from "../support/kafka.ts";
import {
  dropTopics,
  eventually,
  produceStates,
  registry,
  type StateEvent,
  schemas,
  startRunner,
  states,
  testTopic,
} from "../support/runtime.ts";

const ARTIFACTS = path.resolve(".sluice/artifacts/dashboard");
const CHROMIUM = process.env.SLUICE_CHROMIUM ?? "/usr/bin/chromium";

const db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl });
const topics: BusinessTopic[] = [];
let deps: DlqDeps;
let runner: ProcessorRunner;
let monitor: LagMonitor;
let dashboard: Dashboard;
let browser: Browser;
let page: Page;
let buggy = true;
const id = randomUUID().slice(0, 8);
const group = `dash-${id}`;
const idleGroup = `dash-idle-${id}`;
let input: BusinessTopic;
let output: BusinessTopic;

const event = (orderId: string, state: StateEvent["state"]): StateEvent => ({ orderId, state, changedAt: 1n });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await migrate(db, [DLQ_MIGRATIONS]);
  input = await testTopic("dash-in", { partitions: 2 });
  output = await testTopic("dash-out", { partitions: 2 });
  topics.push(input, output);
  const processor = states.defineProcessor({
    name: group,
    input: input.name,
    outputs: [output.name],
    retryTiers: ["1s"],
    async handler(record, ctx) {
      if (buggy && record.value.state === "PAID") throw new PermanentError(`cannot pay ${record.key}`, "BUG");
      await ctx.send(output.name, record.key, record.value);
    },
  });
  // A processor that is deployed but not running: its lag is what the page must show.
  const idle = states.defineProcessor({ name: idleGroup, input: input.name, handler: async () => {} });
  runner = await startRunner(processor, [input, output]);
  deps = {
    kafka,
    serde: new AvroSerde(registry),
    db,
    routes: [routeOf(processor), routeOf(idle)],
    topics: [...TOPICS, input, output],
    schemas,
  };
  monitor = new LagMonitor({
    kafka,
    routes: deps.routes,
    everyMs: 1_000,
    onError: (error) => console.error("lag sample failed", error),
  });
  monitor.start();
  dashboard = await startDashboard({ deps, monitor, host: "127.0.0.1", port: 0, operator: "dashboard-test" });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await monitor?.stop();
  await runner?.stop();
  await dropTopics(topics);
  await db.end();
});

const row = (g: string) => page.locator(`#processors tr[data-group="${g}"]`);

describe("dashboard", () => {
  it("loads and lists the processors with their groups", async () => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(dashboard.url);
    await expect.poll(() => row(group).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => row(idleGroup).count()).toBe(1);
    expect(await page.locator("#chart-throughput canvas").count()).toBe(1);
    expect(await page.locator("#chart-lag canvas").count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it("shows a processor's lag once records wait for it", async () => {
    await produceStates(
      input,
      Array.from({ length: 6 }, (_, i) => event(`o-${i}`, "CREATED")),
    );
    // The running group catches up; the idle one has all six waiting, and the page says so.
    await expect.poll(() => row(idleGroup).locator(".lag-records").textContent(), { timeout: 20_000 }).toBe("6");
    await expect.poll(() => row(group).locator(".lag-records").textContent(), { timeout: 20_000 }).toBe("0");
    const seconds = Number(await row(idleGroup).locator(".lag-seconds").textContent());
    expect(seconds).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, "lag.png"), fullPage: true });
  }, 60_000);

  it("replays a DLQ record from the page after a dry run, and its group processes it", async () => {
    await produceStates(input, [event("o-paid-1", "PAID"), event("o-paid-2", "PAID")]);
    expect(await eventually(async () => (await readDlq(deps, { group })).length === 2, 30_000)).toBe(true);
    buggy = false; // the fix is deployed

    await page.selectOption("#dlq-group", group);
    await page.click("#dlq-filter button[type=submit]");
    await expect.poll(() => page.locator("#dlq tbody tr").count(), { timeout: 10_000 }).toBe(2);
    await page.locator("#dlq tbody tr").first().click();
    await expect.poll(() => page.locator("#dlq-detail pre").first().textContent()).toContain("error-class");
    await expect.poll(() => row(group).locator(".dlq-waiting").textContent(), { timeout: 10_000 }).toBe("2");
    await page.screenshot({ path: path.join(ARTIFACTS, "dlq.png"), fullPage: true });

    await page.click("#replay-dry");
    await expect.poll(() => page.locator("#replay-result").textContent()).toContain("would replay 2");
    expect(await readDlq(deps, { group })).toHaveLength(2); // the dry run moved nothing
    await page.click("#replay-confirm");
    await expect.poll(() => page.locator("#replay-result").textContent(), { timeout: 20_000 }).toContain("replayed 2");
    expect(await page.locator("#dlq tbody tr").count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, "replayed.png"), fullPage: true });

    const out = await consumeUntil(
      output.name,
      (rs) => ["o-paid-1", "o-paid-2"].every((k) => rs.some((r) => r.key === k)),
      30_000,
      2_000,
    );
    for (const key of ["o-paid-1", "o-paid-2"]) expect(out.filter((r) => r.key === key)).toHaveLength(1);
    expect(await readDlq(deps, { group })).toHaveLength(0);
    await expect.poll(() => row(group).locator(".dlq-waiting").textContent(), { timeout: 10_000 }).toBe("0");
  }, 120_000);

  it("answers only its own address, and starts a replay only from its own page, as JSON, a dry run by default", async () => {
    const { port } = new URL(dashboard.url);
    // Another name rebound to 127.0.0.1: no page, no records.
    const rebound = await new Promise<number | undefined>((resolve, reject) => {
      get({ host: "127.0.0.1", port, path: "/api/dlq", headers: { host: `evil.example:${port}` } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on("error", reject);
    });
    expect(rebound).toBe(421);
    const replay = (headers: Record<string, string>, body: string) =>
      fetch(new URL("/api/dlq/replay", dashboard.url), { method: "POST", headers, body });
    const filter = JSON.stringify({ filter: { group } });
    expect((await replay({ "content-type": "text/plain", origin: dashboard.url.slice(0, -1) }, filter)).status).toBe(
      415,
    );
    expect((await replay({ "content-type": "application/json", origin: "http://evil.example" }, filter)).status).toBe(
      403,
    );
    const dry = await replay({ "content-type": "application/json", origin: dashboard.url.slice(0, -1) }, filter);
    expect(dry.status).toBe(200);
    expect(await dry.json()).toMatchObject({ dryRun: true });
  });
});
