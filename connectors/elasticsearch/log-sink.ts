/**
 * `log-sink`: `logs.app` into Elasticsearch, one daily index per UTC day (`logs-YYYY.MM.DD`), through `_bulk` on
 * the runtime's batch sink. Each document's id is its record's event id, so a record written again after a crash
 * or a failed batch overwrites its document instead of adding one. Before the first write it applies the index
 * template (ECS mappings); once a day it deletes the indices older than the retention.
 */
import { Client } from "@elastic/elasticsearch";
import { runtimeConfig, type Sink, type Timer } from "../../runtime/index.ts";
import { SluiceError } from "../../topics/errors.ts";
import { defineSink } from "../define.ts";
import { connectorSettings } from "../settings.ts";
import { bulkFailures } from "./bulk-outcome.ts";
import { logIndexTemplate } from "./index-template.ts";
import { LOG_INDEX_PATTERN, logDocument } from "./log-document.ts";
import { pruneLogIndices } from "./retention.ts";

const PRUNE_EVERY_MS = 86_400_000;
/** Of a _bulk response, only what the outcome needs: parsing a full one costs more than building the request. */
export const BULK_RESPONSE_FIELDS = "errors,items.*.status,items.*.error";

/** A client for the configured Elasticsearch; the caller retries, so the client does not. */
export function elasticsearchClient(url: string = runtimeConfig().elasticsearchUrl): Client {
  return new Client({ node: url, maxRetries: 0, requestTimeout: 30_000 });
}

export interface LogSinkOptions {
  /** Default: log-sink (its group too). */
  name?: string;
  /** A topic of `LogEvent` values to read instead of logs.app. */
  input?: string;
  /** Default: the configured ELASTICSEARCH_URL. */
  url?: string;
}

export function logSink({ name = "log-sink", input, url }: LogSinkOptions = {}): Sink {
  let client: Client | undefined;
  let pruning: Timer | undefined;
  const opened = (): Client => {
    if (!client) throw new SluiceError("NOT_STARTED", `${name} wrote before it was opened`);
    return client;
  };
  const sink = defineSink({
    name,
    input: "logs.app",
    batching: { maxRecords: 2_000, maxBytes: 5 * 1024 * 1024, linger: "10ms" },
    async open({ log, clock }) {
      const { logsRetentionMs } = connectorSettings();
      client ??= elasticsearchClient(url);
      const es = client;
      await es.indices.putIndexTemplate(logIndexTemplate(LOG_INDEX_PATTERN, runtimeConfig().replicationFactor - 1));
      const prune = async () => {
        try {
          const deleted = await pruneLogIndices(es, logsRetentionMs, clock.now());
          if (deleted.length > 0) log.info({ deleted }, "log indices past their retention deleted");
        } catch (error) {
          log.warn({ err: error }, "could not prune log indices (next try in a day)");
        }
        pruning = clock.after(PRUNE_EVERY_MS, prune);
      };
      pruning?.cancel();
      await prune();
    },
    async write(records, { signal }) {
      const operations = records.flatMap(({ value, eventId }) => {
        const document = logDocument(value, eventId);
        return [{ index: { _index: document.index, _id: document.id } }, document.source];
      });
      const response = await opened().bulk({ operations, filter_path: BULK_RESPONSE_FIELDS }, { signal });
      if (!response.errors) return undefined;
      return bulkFailures(response.items.map((item) => item.index ?? { status: 500 }));
    },
    async close() {
      pruning?.cancel();
      await client?.close();
      client = undefined;
    },
  });
  return input ? { ...sink, input } : sink;
}
