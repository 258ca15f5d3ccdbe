import { describe, expect, it } from "vitest";
import { type Evaluation, onCheck, onEvent, type RuleState } from "../../../connectors/alerting/evaluation.ts";
import type { AnyRule, FlatlineRule, FrequencyRule } from "../../../connectors/alerting/rules.ts";

const base = { severity: "CRITICAL" as const, match: () => true, summary: (key: string) => `${key} is in trouble` };
const errors: FrequencyRule = {
  ...base,
  kind: "frequency",
  name: "errors",
  threshold: 3,
  window: "1m",
  repeatInterval: "10m",
};
const silent: FlatlineRule = { ...base, kind: "flatline", name: "silent", window: "5m", repeatInterval: "1h" };
const fatal: AnyRule = { ...base, kind: "any", name: "fatal" };

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 27, 10);

/** Runs events (at their times) and the checks they schedule (when due) in time order, collecting the alerts. */
function run(rule: FrequencyRule | FlatlineRule, eventTimes: number[], until: number) {
  let state: RuleState = {};
  const alerts: string[] = [];
  const apply = (e: Evaluation) => {
    state = e.state;
    alerts.push(...e.alerts.map((a) => `${a.status}@${(a.raisedAt - T0) / 1000}s`));
  };
  const events = [...eventTimes];
  for (let now = T0; now <= until; now += 1_000) {
    while (events[0] !== undefined && events[0] <= now)
      apply(onEvent(rule, "shop", state, events.shift() as number, "e", now));
    if (state.checkAt !== undefined && state.checkAt <= now) apply(onCheck(rule, "shop", state, state.checkAt, now));
  }
  return alerts;
}

describe("alert rules", () => {
  it("frequency: fires once at the threshold, reminds every repeat interval while it holds, resolves once", () => {
    // 3 errors in 20 s fire; errors keep coming every 20 s for 25 minutes, then stop.
    const times = Array.from({ length: 75 }, (_, i) => T0 + i * 20_000);
    expect(run(errors, times, T0 + 40 * MIN)).toEqual([
      "firing@40s",
      "reminder@640s",
      "reminder@1240s",
      "resolved@1540s",
    ]);
  });

  it("frequency: events too far apart never fire", () => {
    expect(run(errors, [T0, T0 + 2 * MIN, T0 + 4 * MIN, T0 + 6 * MIN], T0 + 10 * MIN)).toEqual([]);
  });

  it("frequency with a group wait: fires only if the condition still holds when the wait is over", () => {
    const waiting = { ...errors, window: "10s" as const, groupWait: "30s" as const };
    // A burst over before the wait is: nothing.
    expect(run(waiting, [T0, T0 + 1_000, T0 + 2_000], T0 + 5 * MIN)).toEqual([]);
    // Errors every 5 s: the condition holds at 10 s, and still when the wait is over.
    const busy = Array.from({ length: 10 }, (_, i) => T0 + i * 5_000);
    expect(run(waiting, busy, T0 + 5 * MIN)[0]).toBe("firing@40s");
  });

  it("flatline: fires when a key is silent for the window, resolves when it speaks again", () => {
    expect(run(silent, [T0, T0 + MIN, T0 + 10 * MIN], T0 + 20 * MIN)).toEqual([
      "firing@360s",
      "resolved@600s",
      "firing@900s",
    ]);
  });

  it("any: one alert per matching event, its id from the event", () => {
    const first = onEvent(fatal, "shop", {}, T0, "event-1", T0);
    const again = onEvent(fatal, "shop", {}, T0, "event-1", T0 + 5);
    expect(first.alerts.map((a) => a.alertId)).toEqual(["fatal/shop/event-1"]);
    expect(again.alerts[0]?.alertId).toBe(first.alerts[0]?.alertId);
  });

  it("ignores a check that is not the pending one, and names each alert of an episode apart", () => {
    const fired = onEvent(errors, "shop", { recent: [T0, T0 + 1] }, T0 + 2, "e", T0 + 2);
    expect(fired.alerts.map((a) => a.alertId)).toEqual([`errors/shop/${T0 + 2}/firing`]);
    expect(onCheck(errors, "shop", fired.state, (fired.checkAt ?? 0) - 1, T0 + 10 * MIN)).toEqual({
      state: fired.state,
      alerts: [],
    });
  });
});
