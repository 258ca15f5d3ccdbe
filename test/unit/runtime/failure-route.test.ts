import pg from "pg";
import { describe, expect, it } from "vitest";
import { classify, PermanentError, RetryableError, ValidationError } from "../../../runtime/failure.ts";
import { attemptOf, routeFailure } from "../../../runtime/runner/failure-route.ts";
import { DecodeError } from "../../../runtime/serde/decode-error.ts";

const tiers = ["5s", "1m", "10m"] as const;
const fromInput = {
  sourceTopic: "orders.created",
  topic: "orders.created",
  partition: 3,
  offset: "42",
  attempt: 1,
  headers: { "event-id": "e-1" },
};

function pgError(sqlstate: string): pg.DatabaseError {
  const error = new pg.DatabaseError(`sqlstate ${sqlstate}`, 100, "error");
  error.code = sqlstate;
  return error;
}

describe("failure routing", () => {
  it("sends a first retryable failure to the first tier, with its history", () => {
    const route = routeFailure(fromInput, new RetryableError("smtp down"), "email", tiers, 1_000);
    expect(route).toEqual({
      kind: "retry",
      topic: "orders.created.email.retry.5s",
      dueAt: 6_000,
      headers: {
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
    const onTier = { ...fromInput, topic: first.topic, partition: 0, offset: "7", attempt: 2, headers: first.headers };
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

  it("ignores routing headers a producer wrote on the input topic", () => {
    const forged = {
      ...fromInput,
      headers: {
        attempt: "4",
        "original-topic": "elsewhere",
        "original-offset": "1",
        "first-failed-at": "5",
        "due-at": "9",
      },
    };
    const route = routeFailure(forged, new Error("boom"), "email", tiers, 1_000);
    expect(route).toMatchObject({ kind: "retry", topic: "orders.created.email.retry.5s" });
    expect(route.headers).toMatchObject({
      attempt: "2",
      "due-at": "6000",
      "original-topic": "orders.created",
      "original-offset": "42",
      "first-failed-at": "1000",
    });
  });

  it("sends a record to the DLQ once the tiers are spent", () => {
    const onLastTier = { ...fromInput, topic: "orders.created.email.retry.10m", attempt: 4, headers: {} };
    const route = routeFailure(onLastTier, new Error("still down"), "email", tiers, 0);
    expect(route).toMatchObject({ kind: "dlq", topic: "orders.created.email.dlq", headers: { attempt: "4" } });
  });

  it("sends permanent, validation and decode errors to the DLQ at once", () => {
    expect(routeFailure(fromInput, new PermanentError("bad order"), "email", tiers, 0).kind).toBe("dlq");
    expect(routeFailure(fromInput, new ValidationError("quantity 0"), "email", tiers, 0)).toMatchObject({
      kind: "dlq",
      headers: { "error-class": "VALIDATION", "error-message": "quantity 0" },
    });
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

describe("failure classes", () => {
  it("classifies PostgreSQL errors by SQLSTATE class", () => {
    for (const sqlstate of ["22003", "22P02", "23505", "23503"]) {
      expect(classify(pgError(sqlstate))).toMatchObject({ permanent: true, errorClass: `PG_${sqlstate}` });
    }
    for (const sqlstate of ["08006", "40001", "40P01", "53300", "57P01", "42P01"]) {
      expect(classify(pgError(sqlstate))).toMatchObject({ permanent: false, errorClass: `PG_${sqlstate}` });
    }
  });

  it("sends a numeric overflow to the DLQ at once, with its SQLSTATE", () => {
    expect(routeFailure(fromInput, pgError("22003"), "points", tiers, 0)).toMatchObject({
      kind: "dlq",
      headers: { "error-class": "PG_22003", attempt: "1" },
    });
  });

  it("names a system error by its code, and retries it", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    expect(classify(refused)).toMatchObject({ permanent: false, errorClass: "ECONNREFUSED" });
  });
});
