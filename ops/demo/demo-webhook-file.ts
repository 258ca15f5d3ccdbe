/** Where the demo's webhook receiver writes the alerts it got, one JSON line each. */
import path from "node:path";

export const RECEIVED = path.resolve(import.meta.dirname, "../../.sluice/logs/alerts-received.jsonl");
