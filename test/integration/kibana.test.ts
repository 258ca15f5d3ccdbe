/**
 * Kibana's saved objects (ops/kibana) against the real log indices: Kibana cannot run here, so what can be
 * checked is checked: every field they reference is in the mapping of the indices the log sink wrote, the queries
 * and aggregations behind the saved search and each panel find the shipped logs, and `sluice kibana import` sends
 * the objects the way Kibana's import API takes them.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LOG_INDEX_PATTERN } from "../../connectors/elasticsearch/log-document.ts";
import { logSink } from "../../connectors/elasticsearch/log-sink.ts";
import { KIBANA_DIR } from "../../ops/cli/commands/kibana.ts";
import type { SinkRunner } from "../../runtime/index.ts";
import type { LogEvent } from "../../schemas/types.generated.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { sluice } from "../support/cli.ts";
import { countLogs, es } from "../support/elasticsearch.ts";
import { dropTopics, eventually, produceMany, startSinkRunner, testTopic } from "../support/runtime.ts";

interface SavedObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  references: { name: string; type: string; id: string }[];
}

interface VisAgg {
  id: string;
  type: string;
  schema: string;
  params: { field?: string; size?: number };
}

const FILE = path.join(KIBANA_DIR, "sluice-logs.ndjson");
const objects: SavedObject[] = readFileSync(FILE, "utf8")
  .split("\n")
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line));
const ofType = (type: string) => objects.filter((o) => o.type === type);
const queryOf = (o: SavedObject): string =>
  JSON.parse((o.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON).query.query;
const aggsOf = (o: SavedObject): VisAgg[] => JSON.parse(o.attributes.visState as string).aggs;
/** The field names a Lucene query string names (`log.level:(error OR fatal)` names log.level). */
const queryFields = (query: string) => [...query.matchAll(/([\w.@]+):/g)].map((m) => m[1] as string);

const service = `kibana-${randomUUID().slice(0, 8)}`;
const ERRORS = { "payment gateway timed out": 30, "stock service down": 10 };
const TOTAL = 300;
let topic: BusinessTopic;
let runner: SinkRunner;

beforeAll(async () => {
  topic = await testTopic("kibana-logs", { partitions: 2, valueSchema: "sluice.logs.LogEvent", key: "appId" });
  const messages = Object.entries(ERRORS).flatMap(([message, n]) => Array<string>(n).fill(message));
  await produceMany(topic, TOTAL, (i): LogEvent => {
    const error = messages[i];
    return {
      appId: service,
      timestamp: BigInt(Date.now() - i * 1_000),
      level: error ? "ERROR" : "INFO",
      message: error ?? "request served",
      logger: "http",
      traceId: null,
      host: "web-1",
      fields: {},
    };
  });
  runner = await startSinkRunner(logSink({ name: `log-sink-${service}`, input: topic.name }), [topic]);
  expect(await eventually(async () => (await countLogs({ term: { "service.name": service } })) === TOTAL)).toBe(true);
}, 120_000);

afterAll(async () => {
  await runner?.stop();
  await dropTopics([topic]);
  await es.close();
});

/** The saved object's query and the test's service, as Elasticsearch runs them for Kibana. */
function search(o: SavedObject) {
  const query = queryOf(o);
  const filter: object[] = [{ term: { "service.name": service } }];
  if (query) filter.push({ query_string: { query } });
  return { bool: { filter } };
}

/** A visualization's bucket aggregations, each nested in the one before, as Kibana asks for them. */
function aggregations(o: SavedObject): Record<string, object> | undefined {
  let inner: Record<string, object> | undefined;
  for (const agg of aggsOf(o)
    .filter((a) => a.type !== "count")
    .reverse()) {
    const body =
      agg.type === "date_histogram"
        ? { date_histogram: { field: agg.params.field, fixed_interval: "1h" } }
        : { terms: { field: agg.params.field, size: agg.params.size } };
    inner = { [agg.id]: inner ? { ...body, aggs: inner } : body };
  }
  return inner;
}

type Bucket = { key: string | number; doc_count: number; [sub: string]: unknown };
async function bucketsOf(o: SavedObject): Promise<Bucket[]> {
  const response = await es.search({ index: LOG_INDEX_PATTERN, size: 0, query: search(o), aggs: aggregations(o) });
  const first = aggsOf(o).find((a) => a.type !== "count")?.id ?? "";
  return (response.aggregations?.[first] as { buckets: Bucket[] }).buckets;
}

const visualization = (title: string) => {
  const found = ofType("visualization").find((v) => v.attributes.title === title);
  if (!found) throw new Error(`no visualization '${title}' in ${FILE}`);
  return found;
};

describe("Kibana saved objects", () => {
  it("hold a data view over the daily log indices by @timestamp, a saved search and a dashboard of three panels", () => {
    expect(ofType("index-pattern")).toEqual([
      expect.objectContaining({
        attributes: expect.objectContaining({ title: LOG_INDEX_PATTERN, timeFieldName: "@timestamp" }),
      }),
    ]);
    expect(ofType("search").map((s) => s.attributes.title)).toEqual(["Errors by service"]);
    const [dashboard] = ofType("dashboard");
    const panels = dashboard?.references.map((r) => objects.find((o) => o.id === r.id)?.attributes.title);
    expect(panels).toEqual(["Log volume by level", "Top error messages", "Errors by service"]);
    for (const o of objects) {
      for (const reference of o.references)
        expect(objects.some((x) => x.id === reference.id && x.type === reference.type)).toBe(true);
    }
  });

  it("reference only fields the real indices have: searchable where queried, aggregatable where aggregated", async () => {
    const caps = await es.fieldCaps({ index: LOG_INDEX_PATTERN, fields: "*" });
    const has = (field: string, ability: "searchable" | "aggregatable") =>
      Object.values(caps.fields[field] ?? {}).some((cap) => cap[ability]);
    const searched = new Set<string>();
    const aggregated = new Set<string>();
    for (const o of objects) {
      if (o.type === "index-pattern") aggregated.add(o.attributes.timeFieldName as string);
      if (o.type === "search") {
        for (const column of o.attributes.columns as string[]) searched.add(column);
        for (const [field] of o.attributes.sort as [string, string][]) aggregated.add(field);
      }
      if (o.type === "search" || o.type === "visualization") for (const f of queryFields(queryOf(o))) searched.add(f);
      if (o.type === "visualization") for (const a of aggsOf(o)) if (a.params.field) aggregated.add(a.params.field);
    }
    expect([...searched].filter((f) => !has(f, "searchable"))).toEqual([]);
    expect([...aggregated].filter((f) => !has(f, "aggregatable"))).toEqual([]);
    expect(aggregated).toContain("message.keyword");
  });

  it("find the shipped logs: the saved search its errors, and each panel its counts", async () => {
    const [saved] = ofType("search");
    expect((await es.count({ index: LOG_INDEX_PATTERN, query: search(saved as SavedObject) })).count).toBe(40);

    const volume = await bucketsOf(visualization("Log volume by level"));
    const byLevel = new Map<string, number>();
    for (const hour of volume) {
      for (const level of (hour["3"] as { buckets: Bucket[] }).buckets) {
        byLevel.set(String(level.key), (byLevel.get(String(level.key)) ?? 0) + level.doc_count);
      }
    }
    expect(Object.fromEntries(byLevel)).toEqual({ info: TOTAL - 40, error: 40 });

    const top = await bucketsOf(visualization("Top error messages"));
    expect(top.map((b) => [b.key, b.doc_count])).toEqual(Object.entries(ERRORS));
    const byService = await bucketsOf(visualization("Errors by service"));
    expect(byService.map((b) => [b.key, b.doc_count])).toEqual([[service, 40]]);
  });
});

describe("sluice kibana import", () => {
  let server: http.Server | undefined;
  afterEach(() => server?.close());

  it("posts each NDJSON file to the saved-objects import API, overwriting, with the kbn-xsrf header", async () => {
    const received: { url: string; xsrf: string | undefined; type: string; body: string }[] = [];
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        received.push({
          url: req.url ?? "",
          xsrf: req.headers["kbn-xsrf"] as string | undefined,
          type: req.headers["content-type"] ?? "",
          body,
        });
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ success: true, successCount: objects.length, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const result = await sluice(["kibana", "import"], { KIBANA_URL: `http://127.0.0.1:${port}` });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`sluice-logs.ndjson: ${objects.length} imported`);
    expect(received).toHaveLength(1);
    expect(received[0]?.url).toBe("/api/saved_objects/_import?overwrite=true");
    expect(received[0]?.xsrf).toBeTruthy();
    expect(received[0]?.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(received[0]?.body).toContain('name="file"; filename="sluice-logs.ndjson"');
    expect(received[0]?.body).toContain(readFileSync(FILE, "utf8").trim());
  });

  it("says in one line when Kibana does not answer", async () => {
    const result = await sluice(["kibana", "import"], { KIBANA_URL: "http://127.0.0.1:1" });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^sluice: Kibana at http:\/\/127.0.0.1:1 does not answer/);
  });
});
