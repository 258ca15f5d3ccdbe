/** The librdkafka features Sluice relies on: every codec, TLS and SASL. Run directly, it fails when any is missing. */
import kafka from "@confluentinc/kafka-javascript";

export const REQUIRED_FEATURES = ["gzip", "snappy", "lz4", "zstd", "ssl", "sasl"];

export function missingFeatures(features: readonly string[] = kafka.features): string[] {
  return REQUIRED_FEATURES.filter((feature) => !features.includes(feature));
}

if (import.meta.main) {
  const missing = missingFeatures();
  if (missing.length) {
    console.error(
      `librdkafka ${kafka.librdkafkaVersion} lacks: ${missing.join(", ")} (has: ${kafka.features.join(", ")})`,
    );
    process.exit(1);
  }
  console.log(`librdkafka ${kafka.librdkafkaVersion}: ${REQUIRED_FEATURES.join(", ")} available`);
}
