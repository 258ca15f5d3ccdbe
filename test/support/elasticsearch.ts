/** Elasticsearch as a test reads it, and a proxy in front of it that a test can make refuse or answer 429. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { LOG_INDEX_PATTERN } from "../../connectors/elasticsearch/log-document.ts";
import { elasticsearchClient } from "../../connectors/elasticsearch/log-sink.ts";
import { runtimeConfig } from "../../runtime/index.ts";

export const es = elasticsearchClient();

/** Documents of the daily log indices that match `query`, once what was indexed is searchable. */
export async function countLogs(query: Record<string, unknown>): Promise<number> {
  await es.indices.refresh({ index: LOG_INDEX_PATTERN, allow_no_indices: true });
  const { count } = await es.count({ index: LOG_INDEX_PATTERN, allow_no_indices: true, query });
  return count;
}

/** Every event id of a service's documents (one per document: a duplicate would show twice). */
export async function eventIdsOf(service: string): Promise<string[]> {
  await es.indices.refresh({ index: LOG_INDEX_PATTERN, allow_no_indices: true });
  const ids: string[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const page = await es.search<{ event: { id: string } }>({
      index: LOG_INDEX_PATTERN,
      size: 10_000,
      query: { term: { "service.name": service } },
      sort: [{ "event.id": "asc" }],
      _source: ["event.id"],
      ...(after ? { search_after: after } : {}),
    });
    const hits = page.hits.hits;
    for (const hit of hits) if (hit._source) ids.push(hit._source.event.id);
    if (hits.length < 10_000) return ids;
    after = hits.at(-1)?.sort;
  }
}

export type ProxyMode = "pass" | "429" | "refuse";

/** An HTTP proxy to Elasticsearch: passes requests, answers each with 429, or refuses connections. */
export class FlakyProxy {
  mode: ProxyMode = "pass";
  /** Requests that reached the proxy (refused connections never do). */
  requests = 0;
  private server: http.Server;
  private port = 0;
  private readonly target: URL;

  /** In front of Elasticsearch, or of another HTTP service. */
  constructor(target: string = runtimeConfig().elasticsearchUrl) {
    this.target = new URL(target);
    this.server = this.create();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Refuses connections (the port closed) until `set` says otherwise. */
  async set(mode: ProxyMode): Promise<void> {
    if (mode === "refuse" && this.mode !== "refuse") {
      this.server.closeAllConnections();
      await new Promise((resolve) => this.server.close(resolve));
    }
    if (mode !== "refuse" && this.mode === "refuse") {
      this.server = this.create();
      await this.start();
    }
    this.mode = mode;
  }

  async stop(): Promise<void> {
    if (this.mode === "refuse") return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private create(): http.Server {
    return http.createServer((req, res) => {
      this.requests++;
      if (this.mode === "429") {
        res.writeHead(429, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { type: "es_rejected_execution_exception", reason: "test proxy: busy" } }));
        return;
      }
      const upstream = http.request(
        { host: this.target.hostname, port: this.target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
  }
}
