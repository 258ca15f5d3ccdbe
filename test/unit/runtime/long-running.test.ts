import { describe, expect, it } from "vitest";
import { type Processor, routeOf } from "../../../runtime/index.ts";
import { handlerTimeoutMs } from "../../../runtime/runner/handler-call.ts";
import { states } from "../../support/topics.ts";

const definition = (extra: object): Processor => ({
  ...states.defineProcessor({ name: "p", input: "t", handler: async () => {} }),
  ...extra,
});

describe("long-running processors", () => {
  it("are bounded by their own handler timeout, not by max.poll.interval.ms (an hour unless told)", () => {
    const maxPoll = 30_000;
    expect(handlerTimeoutMs(definition({ longRunning: true }), maxPoll)).toBe(3_600_000);
    expect(handlerTimeoutMs(definition({ longRunning: true, handlerTimeout: "10m" }), maxPoll)).toBe(600_000);
    expect(() => handlerTimeoutMs(definition({ handlerTimeout: "10m" }), maxPoll)).toThrow(/a quarter/);
  });

  it("retry non-blocking only: a blocking or key-ordered one is a configuration error", () => {
    expect(routeOf(definition({ longRunning: true })).longRunning).toBe(true);
    expect(() => routeOf(definition({ longRunning: true, retry: "blocking" }))).toThrow(/non-blocking only/);
    expect(() => routeOf(definition({ longRunning: true, retry: "key-ordered" }))).toThrow(/non-blocking only/);
    expect(routeOf(definition({})).longRunning).toBe(false);
  });
});
