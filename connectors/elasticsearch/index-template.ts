/**
 * The index template the Elasticsearch sink applies before its first write: every daily log index gets ECS
 * mappings, whatever the first document of the day looks like. Plain indices (the local Elasticsearch has no data
 * streams, ingest pipelines or ILM): retention is `logs prune`.
 */

/** The ECS fields a log's `fields` may fill with a type of their own (not a keyword label). */
const TYPED_FIELDS = {
  "http.request.method": { type: "keyword" },
  "http.response.status_code": { type: "long" },
  "url.path": { type: "keyword" },
  "client.ip": { type: "ip" },
  "user.id": { type: "keyword" },
  "event.duration": { type: "long" },
  "event.dataset": { type: "keyword" },
  "error.type": { type: "keyword" },
  "error.message": { type: "text" },
  "error.stack_trace": { type: "text", index: false },
} as const;

export const TYPED_ECS_FIELDS: ReadonlySet<string> = new Set(Object.keys(TYPED_FIELDS));

const LOG_TEMPLATE_NAME = "sluice-logs";

export function logIndexTemplate(pattern: string, replicas: number) {
  return {
    name: LOG_TEMPLATE_NAME,
    index_patterns: [pattern],
    priority: 100,
    template: {
      settings: { number_of_shards: 1, number_of_replicas: replicas },
      mappings: {
        // What the sink does not map is kept in _source but not indexed: one odd field cannot explode the mapping.
        dynamic: false,
        properties: {
          "@timestamp": { type: "date" },
          // Searched as text; `message.keyword` lets Kibana count the most frequent messages.
          message: { type: "text", fields: { keyword: { type: "keyword", ignore_above: 512 } } },
          "log.level": { type: "keyword" },
          "log.logger": { type: "keyword" },
          "service.name": { type: "keyword" },
          "event.id": { type: "keyword" },
          "trace.id": { type: "keyword" },
          "host.name": { type: "keyword" },
          ...TYPED_FIELDS,
          labels: { type: "object", dynamic: true },
        },
        dynamic_templates: [{ labels: { path_match: "labels.*", mapping: { type: "keyword", ignore_above: 1024 } } }],
      },
    },
  };
}
