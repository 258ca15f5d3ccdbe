/**
 * `sluice dashboard`: one web page, served by this Node process, over the same code as `sluice lag` and
 * `sluice dlq`. The page (ops/dashboard/page/, plain HTML and a script module, charts by uPlot from npm: no build
 * step) polls two JSON endpoints and posts one:
 * - GET /api/overview[?since=MS]: the processors and sinks with their routes, the lag monitor's samples (lag in
 *   records and seconds, tier and DLQ depth, throughput, per group over time), and each DLQ's records not moved yet;
 * - GET /api/dlq?group=&topic=&class=&key=&from=&to=: a DLQ's records not moved yet, decoded, with their headers;
 * - POST /api/dlq/replay {filter, dryRun, rate, cap}: `sluice dlq replay`, a dry run unless dryRun is false.
 * It listens on 127.0.0.1 unless SLUICE_DASHBOARD_HOST says otherwise: replay moves records, and there is no login.
 * It answers only requests addressed to it by its own name (a Host of 127.0.0.1, localhost or the address it
 * listens on, with its port), so another site's page cannot reach it through a DNS name rebound to 127.0.0.1; and a
 * replay must come from its own page (Origin) as JSON, which another site's page cannot post without a preflight.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { UsageError } from "../../topics/errors.ts";
import {
  DEFAULT_REPLAY_CAP,
  type DlqDeps,
  type DlqFilter,
  describeRecord,
  dlqFilter,
  readDlq,
  replayDlq,
} from "../dlq/dlq.ts";
import type { LagMonitor } from "../lag/lag-monitor.ts";

/** DLQ records a page shows at most. */
const MAX_RECORDS = 200;
/** Records a second a replay from the page may ask for at most. */
const MAX_RATE = 10_000;
/** A replay's request body, at most. */
const MAX_BODY_BYTES = 64 * 1024;

export interface DashboardOptions {
  deps: DlqDeps;
  monitor: LagMonitor;
  host: string;
  port: number;
  /** Who the audit record names for a replay from the page. */
  operator: string;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

const PAGE = path.join(import.meta.dirname, "page");
const UPLOT = path.join(import.meta.dirname, "../../node_modules/uplot/dist");
const FILES: Record<string, [string, string]> = {
  "/": [path.join(PAGE, "index.html"), "text/html; charset=utf-8"],
  "/app.js": [path.join(PAGE, "app.js"), "text/javascript; charset=utf-8"],
  "/uPlot.js": [path.join(UPLOT, "uPlot.iife.min.js"), "text/javascript; charset=utf-8"],
  "/uPlot.css": [path.join(UPLOT, "uPlot.min.css"), "text/css; charset=utf-8"],
};

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const files = new Map(Object.entries(FILES).map(([url, [file, type]]) => [url, { body: readFileSync(file), type }]));
  /** The Host values it answers: its own names, with its port. */
  const hosts = new Set<string>();
  const server = createServer((request, response) => {
    if (!hosts.has(request.headers.host ?? "")) return json(response, 421, { error: "not this dashboard's address" });
    handle(options, files, request, response).catch((error: unknown) => {
      const status = error instanceof UsageError ? 400 : 500;
      if (!response.headersSent) json(response, status, { error: (error as Error).message });
      else response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  for (const name of ["127.0.0.1", "localhost", "[::1]", options.host]) hosts.add(`${name}:${port}`);
  return {
    url: `http://${options.host}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function handle(
  options: DashboardOptions,
  files: Map<string, { body: Buffer; type: string }>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://dashboard");
  const file = request.method === "GET" ? files.get(url.pathname) : undefined;
  if (request.method === "GET" && url.pathname === "/favicon.ico") {
    response.writeHead(204).end();
  } else if (file) {
    response.writeHead(200, { "content-type": file.type, "cache-control": "no-cache" }).end(file.body);
  } else if (request.method === "GET" && url.pathname === "/api/overview") {
    json(response, 200, await overview(options, Number(url.searchParams.get("since") ?? 0)));
  } else if (request.method === "GET" && url.pathname === "/api/dlq") {
    const records = await readDlq(options.deps, filterOf(Object.fromEntries(url.searchParams)));
    const shown = await Promise.all(
      records.slice(-MAX_RECORDS).map((entry) => describeRecord(options.deps.serde, entry)),
    );
    json(response, 200, { total: records.length, records: shown.reverse() });
  } else if (request.method === "POST" && url.pathname === "/api/dlq/replay") {
    // JSON only: another site's page cannot post that to this one without a preflight, which it does not answer.
    if (!request.headers["content-type"]?.startsWith("application/json")) {
      return json(response, 415, { error: "a replay is posted as application/json" });
    }
    if (request.headers.origin !== `http://${request.headers.host}`) {
      return json(response, 403, { error: "a replay is started from the dashboard's own page" });
    }
    const body = (await readJson(request)) as { filter?: Record<string, unknown>; dryRun?: unknown; rate?: unknown };
    const rate = Number(body.rate ?? 100);
    if (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE) {
      throw new UsageError(`rate must be a whole number from 1 to ${MAX_RATE}`);
    }
    const counts = await replayDlq(options.deps, filterOf(body.filter ?? {}), {
      dryRun: body.dryRun !== false,
      rate,
      cap: DEFAULT_REPLAY_CAP,
      operator: options.operator,
    });
    json(response, 200, { dryRun: body.dryRun !== false, counts });
  } else {
    json(response, 404, { error: `no ${request.method} ${url.pathname}` });
  }
}

async function overview(options: DashboardOptions, since: number) {
  const { deps, monitor } = options;
  const { rows } = await deps.db.query<{ topic: string; moved: string }>(
    "SELECT topic, count(*) AS moved FROM sluice_dlq_moves GROUP BY topic",
  );
  const moved = new Map(rows.map((r) => [r.topic, Number(r.moved)]));
  const samples = monitor.samples();
  const latest = samples.at(-1);
  // The DLQ's depth less what replays moved: what is still waiting there.
  const dlqWaiting = Object.fromEntries(
    deps.routes.map((r) => {
      const depth = latest?.groups.find((g) => g.group === r.group)?.dlqRecords ?? 0;
      return [r.group, Math.max(0, depth - (moved.get(r.dlqTopic) ?? 0))];
    }),
  );
  return {
    processors: deps.routes.map((r) => ({
      name: r.name,
      group: r.group,
      input: r.input,
      outputs: r.outputs,
      delivery: r.delivery,
      tiers: r.tierTopics,
      dlq: r.dlqTopic,
    })),
    samples: samples.filter((s) => s.at > since),
    dlqWaiting,
  };
}

/** The DLQ filter of a query or a replay's body: its non-empty text fields. */
function filterOf(query: Record<string, unknown>): DlqFilter {
  const fields = Object.entries(query).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== "");
  return dlqFilter(Object.fromEntries(fields), (field) => field);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_BODY_BYTES) throw new UsageError(`the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw new UsageError("the body is not JSON");
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_, value) => (typeof value === "bigint" ? value.toString() : value));
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  response.end(text);
}
