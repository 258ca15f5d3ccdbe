/**
 * Alerting rules as typed code, over log events:
 * - `frequency`: at least `threshold` matching events within `window`, per key (ERROR per service);
 * - `any`: every matching event (every FATAL), one alert each;
 * - `flatline`: a key (a service) silent for `window`.
 * A frequency or flatline rule's alert is deduplicated by (rule, key): it fires once, after `groupWait` if the
 * condition still holds then; reminds every `repeatInterval` while it holds; and says `resolved` once it clears.
 */

import type { LogEvent, Severity } from "../../schemas/types.generated.ts";
import { type Duration, toMs } from "../../topics/duration.ts";

interface RuleBase {
  /** Unique: part of every alert id and of the rule's state. */
  name: string;
  severity: Severity;
  /** Which events the rule looks at. */
  match(event: LogEvent): boolean;
  /** What the rule counts by (its dedupe key with the name): the service, by default. */
  key?(event: LogEvent): string;
  /** The alert's one-line summary. */
  summary(key: string): string;
}

export interface FrequencyRule extends RuleBase {
  kind: "frequency";
  threshold: number;
  window: Span;
  /** How long a newly true condition waits before it fires (if it still holds). Default: 0s. */
  groupWait?: Span;
  repeatInterval: Span;
}

export interface AnyRule extends RuleBase {
  kind: "any";
}

export interface FlatlineRule extends RuleBase {
  kind: "flatline";
  window: Span;
  repeatInterval: Span;
}

export type AlertRule = FrequencyRule | AnyRule | FlatlineRule;

/** A duration such as "1m", or milliseconds. */
export type Span = Duration | number;

export const spanMs = (span: Span): number => (typeof span === "number" ? span : toMs(span));

export const keyOf = (rule: AlertRule, event: LogEvent): string => rule.key?.(event) ?? event.appId;
