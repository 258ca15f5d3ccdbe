import kafka from "@confluentinc/kafka-javascript";
import { describe, expect, it } from "vitest";
import { missingFeatures, REQUIRED_FEATURES } from "../../ops/toolchain/check-librdkafka.ts";

describe("the Kafka client as built here", () => {
  it("loads librdkafka with every codec, TLS and SASL", () => {
    expect(kafka.librdkafkaVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(missingFeatures()).toEqual([]);
  });

  it("names what is missing from a weaker build", () => {
    expect(missingFeatures(["gzip", "ssl"])).toEqual(REQUIRED_FEATURES.filter((f) => f !== "gzip" && f !== "ssl"));
  });
});
