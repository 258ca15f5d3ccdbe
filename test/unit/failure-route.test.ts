import { describe, expect, it } from "vitest";
import { PermanentError, RetryableError } from "../../processors/runtime/failure.ts";
import { attemptOf, routeFailure } from "../../processors/runtime/failure-route.ts";
import { DecodeError } from "../../processors/runtime/serde/decode-error.ts";

const tiers = ["5s", "1m", "10m"] as const;
const fromInput = {
  sourceTopic: "orders.created",
  topic: "orders.created",
  partition: 3,
  offset: "42",
  headers: { "event-id": "e-1" },
};

describe("failure routing", () => {
  it("sends a first retryable failure to the first tier, with its history", () => {
    const route = routeFailure(fromInput, new RetryableError("smtp down"), "email", tiers, 1_000);
    expect(route).toEqual({
      kind: "retry",
      topic: "orders.created.email.retry.5s",
      dueAt: 6_000,
      headers: {
        "event-id": "e-1",
        attempt: "2",
        "due-at": "6000",
        "original-topic": "orders.created",
        "original-partition": "3",
        "original-offset": "42",
        "first-failed-at": "1000",
        "error-class": "RETRYABLE",
        "error-message": "smtp down",
      },
    });
  });

  it("moves a failure on a tier to the next tier and keeps where it came from", () => {
    const first = routeFailure(fromInput, new Error("boom"), "email", tiers, 1_000);
    const onTier = { ...fromInput, topic: first.topic, partition: 0, offset: "7", headers: first.headers };
    const second = routeFailure(onTier, new Error("boom again"), "email", tiers, 7_000);
    expect(second.topic).toBe("orders.created.email.retry.1m");
    expect(second.headers).toMatchObject({
      attempt: "3",
      "original-topic": "orders.created",
      "original-partition": "3",
      "original-offset": "42",
      "first-failed-at": "1000",
      "error-class": "Error",
      "error-message": "boom again",
    });
  });

  it("sends a record to the DLQ once the tiers are spent", () => {
    const onLastTier = { ...fromInput, topic: "orders.created.email.retry.10m", headers: { attempt: "4" } };
    const route = routeFailure(onLastTier, new Error("still down"), "email", tiers, 0);
    expect(route).toMatchObject({ kind: "dlq", topic: "orders.created.email.dlq", headers: { attempt: "4" } });
  });

  it("sends permanent and decode errors to the DLQ at once", () => {
    expect(routeFailure(fromInput, new PermanentError("bad order"), "email", tiers, 0).kind).toBe("dlq");
    const decode = routeFailure(fromInput, new DecodeError("BAD_MAGIC_BYTE", "magic byte is 0x7b"), "email", tiers, 0);
    expect(decode).toMatchObject({
      kind: "dlq",
      headers: { "error-class": "BAD_MAGIC_BYTE", "error-message": "magic byte is 0x7b" },
    });
  });

  it("truncates long error messages", () => {
    const route = routeFailure(fromInput, new Error("x".repeat(5_000)), "email", tiers, 0);
    expect(route.headers["error-message"]?.length).toBeLessThanOrEqual(1_001);
  });

  it("reads the attempt from headers, 1 when absent or nonsense", () => {
    expect(attemptOf({})).toBe(1);
    expect(attemptOf({ attempt: "3" })).toBe(3);
    expect(attemptOf({ attempt: "-2" })).toBe(1);
  });
});
