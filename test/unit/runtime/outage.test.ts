/**
 * A dependency's outage on the driver: a record whose handler meets a connection refused waits in place, its
 * partition paused, for as long as the outage lasts (longer than every retry tier together), and is handled once
 * when the dependency is back; nothing reaches a tier or the DLQ. A record's own failure still takes the tiers.
 */
import { describe, expect, it } from "vitest";
import { isOutage, RetryableError, UnavailableError } from "../../../runtime/index.ts";
import { TestDriver } from "../../../runtime/testing/index.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import { stateEvent as event, type StateEvent, states, testTopicSpec } from "../../support/topics.ts";

const schemas = loadSchemaFiles();
const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

describe("a dependency's outage", () => {
  it("is told apart from a record's failure", () => {
    expect(isOutage(refused())).toBe(true);
    expect(isOutage(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isOutage(new TypeError("fetch failed", { cause: refused() }))).toBe(true);
    expect(isOutage(new UnavailableError("inventory service answered 503"))).toBe(true);
    expect(isOutage(new RetryableError("the order service has not caught up"))).toBe(false);
    expect(isOutage(new Error("duplicate key value violates unique constraint"))).toBe(false);
  });

  for (const retry of ["non-blocking", "key-ordered", "blocking"] as const) {
    it(`${retry}: records wait in place through an outage longer than the tiers, then each is handled once`, async () => {
      const topics = [testTopicSpec("orders", { partitions: 2 }), testTopicSpec("reserved", { partitions: 2 })];
      let down = true;
      let tries = 0;
      const processor = states.defineProcessor({
        name: "reserve",
        input: "orders",
        outputs: ["reserved"],
        retry,
        retryTiers: ["1s"],
        keyConcurrency: 4,
        async handler(record, ctx) {
          tries++;
          if (down) throw refused();
          if (record.value.state === "CANCELLED") throw new RetryableError("not this one");
          await ctx.send("reserved", record.key, record.value);
        },
      });
      const driver = await TestDriver.start<Record<string, StateEvent>>({ topics, schemas, processors: [processor] });
      for (let i = 0; i < 6; i++) await driver.pipe("orders", `o-${i}`, event(`o-${i}`, "CREATED"));
      await driver.advance("2m"); // the tier is 1 s: without the outage rule they would all be in the DLQ by now
      const triesDuringOutage = tries;
      expect(await driver.read("reserved")).toEqual([]);
      expect(await driver.dlq("reserve")).toEqual([]);
      for (const tier of driver.tiersOf("reserve")) expect(await driver.read(tier)).toEqual([]);
      // It tried again and again, backing off (at most 5 s apart), not in a loop.
      expect(triesDuringOutage).toBeGreaterThan(2 * 20);
      expect(triesDuringOutage).toBeLessThan(2 * 4 * 300);

      down = false;
      await driver.pipe("orders", "o-bad", event("o-bad", "CANCELLED"));
      await driver.advance("10s");
      const reserved = (await driver.read("reserved")).map((r) => r.key).sort();
      expect(reserved).toEqual(["o-0", "o-1", "o-2", "o-3", "o-4", "o-5"]);
      // A record's own failure still goes through the tiers to the DLQ.
      await driver.advance("1m");
      expect((await driver.dlq("reserve")).map((r) => r.key)).toEqual(["o-bad"]);
      await driver.stop();
    });
  }

  it("waits at most SLUICE_OUTAGE_MAX_WAIT (30 min), then to the DLQ: a reset the record causes holds nothing forever", async () => {
    const topics = [testTopicSpec("orders"), testTopicSpec("reserved")];
    let tries = 0;
    const processor = states.defineProcessor({
      name: "reserve",
      input: "orders",
      outputs: ["reserved"],
      retryTiers: ["1s"],
      async handler(record, ctx) {
        if (record.key === "o-poison") {
          tries++;
          throw Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
        }
        await ctx.send("reserved", record.key, record.value);
      },
    });
    const driver = await TestDriver.start<Record<string, StateEvent>>({ topics, schemas, processors: [processor] });
    await driver.pipe("orders", "o-poison", event("o-poison", "CREATED"));
    await driver.pipe("orders", "o-next", event("o-next", "CREATED"));
    await driver.advance("29m");
    expect(await driver.dlq("reserve")).toEqual([]);
    expect(await driver.read("reserved")).toEqual([]); // the partition waits behind it
    await driver.advance("2m");
    expect((await driver.dlq("reserve")).map((r) => [r.key, r.headers["error-class"]])).toEqual([
      ["o-poison", "ECONNRESET"],
    ]);
    expect((await driver.read("reserved")).map((r) => r.key)).toEqual(["o-next"]);
    expect(tries).toBeLessThan(31 * 12 + 10); // every 5 s at most, not in a loop
    await driver.stop();
  });
});
