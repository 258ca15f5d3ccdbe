/**
 * What a `_bulk` response means for each document: indexed; rejected for good (a mapping or parsing error, or
 * any other 4xx: the same document fails the same way again), which sends its record to the DLQ with
 * Elasticsearch's error type and reason; or refused for now (429, 5xx), which writes it again after a backoff.
 */
import { PermanentError, RetryableError, type SinkWriteResult } from "../../runtime/index.ts";

export interface BulkItemOutcome {
  status: number;
  error?: { type?: string; reason?: string | null; caused_by?: { type?: string; reason?: string | null } };
}

export function bulkFailures(items: readonly BulkItemOutcome[]): SinkWriteResult {
  const failures: SinkWriteResult["failures"] = [];
  items.forEach((item, index) => {
    if (!item.error && item.status < 300) return;
    const type = item.error?.type ?? `http_${item.status}`;
    const cause = item.error?.caused_by;
    const reason = [item.error?.reason, cause && `${cause.type}: ${cause.reason}`].filter(Boolean).join(" — ");
    const transient = item.status === 429 || item.status >= 500;
    const message = `Elasticsearch ${item.status} ${type}: ${reason || "no reason given"}`;
    failures.push({ index, error: transient ? new RetryableError(message, type) : new PermanentError(message, type) });
  });
  return { failures };
}
