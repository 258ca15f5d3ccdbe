import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../../runtime/index.ts";

describe("token bucket", () => {
  it("gives its capacity at once, then its rate, and says how long to wait", () => {
    const bucket = new TokenBucket(10, 5, 0);
    expect([1, 2, 3, 4, 5].map(() => bucket.take(1, 0))).toEqual([0, 0, 0, 0, 0]);
    expect(bucket.take(1, 0)).toBe(100); // one token a tenth of a second
    expect(bucket.take(1, 100)).toBe(0);
    expect(bucket.take(3, 100)).toBe(300);
    expect(bucket.take(3, 400)).toBe(0);
  });

  it("never saves more than its capacity, however long it was idle", () => {
    const bucket = new TokenBucket(10, 5, 0);
    expect(bucket.take(5, 60_000)).toBe(0);
    expect(bucket.take(1, 60_000)).toBe(100);
  });

  it("takes nothing when it says to wait, and refuses more than it can ever hold", () => {
    const bucket = new TokenBucket(10, 5, 0);
    expect(bucket.take(4, 0)).toBe(0);
    expect(bucket.take(2, 0)).toBe(100);
    expect(bucket.take(1, 0)).toBe(0); // the 2 asked for before were not taken
    expect(() => bucket.take(6, 0)).toThrow(RangeError);
  });

  it("writes at most capacity + rate × w in any window of w seconds", () => {
    const bucket = new TokenBucket(100, 20, 0);
    const written: number[] = [];
    for (let now = 0; written.length < 1_000; ) {
      const wait = bucket.take(20, now);
      if (wait === 0) written.push(...Array.from({ length: 20 }, () => now));
      now += wait || 1;
    }
    for (const t of written) expect(written.filter((w) => w >= t && w < t + 1_000).length).toBeLessThanOrEqual(120);
  });
});
