/**
 * What a rule does with its state when an event matches or its check comes due: the state after, the alerts to
 * send, the check to schedule. Pure, so the rules are tested without a broker; the processors keep the state in
 * PostgreSQL and send what this returns.
 *
 * A key has at most one check pending (`checkAt`): a check that is not the pending one (a redelivered or
 * superseded timer) does nothing. Alert ids are derived from the rule, key, the episode's start and what the alert
 * says, so an alert sent again after a crash has the same id and its receivers get it once.
 */
import { type AlertRule, type FlatlineRule, type FrequencyRule, spanMs } from "./rules.ts";

export interface RuleState {
  /** Frequency: the times of the last `threshold` matching events. */
  recent?: number[];
  /** Flatline: the last matching event's time. */
  lastSeen?: number;
  /** Frequency with a group wait: since when the condition has held, not yet fired. */
  pendingSince?: number;
  firing?: { since: number; notifiedAt: number; reminders: number };
  /** The one check pending, when. */
  checkAt?: number;
}

export type AlertStatus = "firing" | "reminder" | "resolved";

export interface RaisedAlert {
  alertId: string;
  rule: string;
  key: string;
  status: AlertStatus;
  /** When the episode began. */
  since: number;
  raisedAt: number;
}

export interface Evaluation {
  state: RuleState;
  alerts: RaisedAlert[];
  /** When to look at the key again, if a check is to be scheduled. */
  checkAt?: number;
}

export function onEvent(
  rule: AlertRule,
  key: string,
  state: RuleState,
  at: number,
  eventId: string,
  now: number,
): Evaluation {
  switch (rule.kind) {
    case "any":
      return {
        state,
        alerts: [
          {
            alertId: `${rule.name}/${key}/${eventId}`,
            rule: rule.name,
            key,
            status: "firing",
            since: at,
            raisedAt: now,
          },
        ],
      };
    case "frequency":
      return frequencyEvent(rule, key, state, at, now);
    case "flatline":
      return flatlineEvent(rule, key, state, at, now);
  }
}

/** The key's check came due: `dueAt` says which one, so only the pending check acts. */
export function onCheck(rule: AlertRule, key: string, state: RuleState, dueAt: number, now: number): Evaluation {
  if (state.checkAt !== dueAt) return { state, alerts: [] };
  const due: RuleState = { ...state, checkAt: undefined };
  switch (rule.kind) {
    case "any":
      return { state: due, alerts: [] };
    case "frequency":
      return frequencyCheck(rule, key, due, now);
    case "flatline":
      return flatlineCheck(rule, key, due, now);
  }
}

function frequencyEvent(rule: FrequencyRule, key: string, state: RuleState, at: number, now: number): Evaluation {
  const recent = [...(state.recent ?? []), at].sort((a, b) => a - b).slice(-rule.threshold);
  const next: RuleState = { ...state, recent };
  if (state.firing || state.pendingSince !== undefined || !holds(rule, recent, at)) return { state: next, alerts: [] };
  const waitMs = spanMs(rule.groupWait ?? 0);
  if (waitMs > 0) return schedule({ ...next, pendingSince: now }, [], now + waitMs);
  return fire(rule, key, next, now, now + Math.min(spanMs(rule.window), spanMs(rule.repeatInterval)));
}

function frequencyCheck(rule: FrequencyRule, key: string, state: RuleState, now: number): Evaluation {
  const stillHolds = holds(rule, state.recent ?? [], now);
  const every = Math.min(spanMs(rule.window), spanMs(rule.repeatInterval));
  if (state.pendingSince !== undefined) {
    const settled = { ...state, pendingSince: undefined };
    return stillHolds ? fire(rule, key, settled, now, now + every) : { state: settled, alerts: [] };
  }
  if (!state.firing) return { state, alerts: [] };
  if (!stillHolds) return resolve(rule, key, state, now);
  return remindIfDue(rule, key, state, now, now + every);
}

function flatlineEvent(rule: FlatlineRule, key: string, state: RuleState, at: number, now: number): Evaluation {
  const lastSeen = Math.max(state.lastSeen ?? at, at);
  const seen: RuleState = { ...state, lastSeen };
  const silenceEnds = lastSeen + spanMs(rule.window);
  if (state.firing) {
    // Speaking again resolves it; the reminder check gives way to a new silence check.
    const resolved = resolve(rule, key, seen, now);
    return schedule(resolved.state, resolved.alerts, silenceEnds);
  }
  // One check pending at a time: a busy service does not schedule one per line.
  return state.checkAt === undefined ? schedule(seen, [], silenceEnds) : { state: seen, alerts: [] };
}

function flatlineCheck(rule: FlatlineRule, key: string, state: RuleState, now: number): Evaluation {
  const silentSince = state.lastSeen ?? now;
  if (now - silentSince < spanMs(rule.window)) return schedule(state, [], silentSince + spanMs(rule.window));
  if (!state.firing) return fire(rule, key, state, now, now + spanMs(rule.repeatInterval));
  return remindIfDue(rule, key, state, now, now + spanMs(rule.repeatInterval));
}

/** At least `threshold` events within the window that ends at `at`. */
function holds(rule: FrequencyRule, recent: readonly number[], at: number): boolean {
  const oldest = recent[0];
  return recent.length >= rule.threshold && oldest !== undefined && at - oldest <= spanMs(rule.window);
}

function fire(rule: AlertRule, key: string, state: RuleState, now: number, checkAt: number): Evaluation {
  const firing = { since: now, notifiedAt: now, reminders: 0 };
  return schedule({ ...state, firing }, [raised(rule, key, firing.since, "firing", now)], checkAt);
}

function remindIfDue(
  rule: FrequencyRule | FlatlineRule,
  key: string,
  state: RuleState,
  now: number,
  checkAt: number,
): Evaluation {
  const { firing } = state;
  if (!firing || now - firing.notifiedAt < spanMs(rule.repeatInterval)) return schedule(state, [], checkAt);
  const reminded = { ...firing, notifiedAt: now, reminders: firing.reminders + 1 };
  const alert = raised(rule, key, firing.since, "reminder", now, reminded.reminders);
  return schedule({ ...state, firing: reminded }, [alert], checkAt);
}

function resolve(rule: AlertRule, key: string, state: RuleState, now: number): Evaluation {
  const since = state.firing?.since ?? now;
  return { state: { ...state, firing: undefined }, alerts: [raised(rule, key, since, "resolved", now)] };
}

function schedule(state: RuleState, alerts: RaisedAlert[], checkAt: number): Evaluation {
  return { state: { ...state, checkAt }, alerts, checkAt };
}

function raised(
  rule: AlertRule,
  key: string,
  since: number,
  status: AlertStatus,
  now: number,
  reminder = 0,
): RaisedAlert {
  const what = status === "reminder" ? `reminder-${reminder}` : status;
  return { alertId: `${rule.name}/${key}/${since}/${what}`, rule: rule.name, key, status, since, raisedAt: now };
}
