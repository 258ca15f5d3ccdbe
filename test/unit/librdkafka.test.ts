import { describe, expect, it } from "vitest";
import { missingFeatures, REQUIRED_FEATURES } from "../../ops/toolchain/check-librdkafka.ts";
import { librdkafkaBuild } from "../../runtime/index.ts";

describe("the Kafka client as built here", () => {
  it("loads librdkafka with every codec, TLS and SASL", () => {
    expect(librdkafkaBuild().version).toMatch(/^\d+\.\d+\.\d+/);
    expect(missingFeatures()).toEqual([]);
  });

  it("names what is missing from a weaker build", () => {
    expect(missingFeatures(["gzip", "ssl"])).toEqual(REQUIRED_FEATURES.filter((f) => f !== "gzip" && f !== "ssl"));
  });
});
