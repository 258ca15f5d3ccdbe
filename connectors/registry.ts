/** Every connector of the reference domain that `sluice run` can run by name, and their tables. */
import type { Processor, Sink } from "../runtime/index.ts";
import { ALERTING_MIGRATIONS, alertRuleProcessors } from "./alerting/alert-rules.ts";
import { alertSink } from "./alerting/alert-sink.ts";
import { defaultRules } from "./alerting/default-rules.ts";
import { archiveSinks } from "./archive/archive-sink.ts";
import { logSink } from "./elasticsearch/log-sink.ts";

/** Built on first use: the rules read their settings from the environment. */
export function connectors(): (Processor | Sink)[] {
  return [logSink(), ...archiveSinks(), ...alertRuleProcessors(defaultRules()), alertSink()];
}

/** The SQL migrations of the connectors' tables. */
export const CONNECTOR_MIGRATIONS = [ALERTING_MIGRATIONS];
