/** The librdkafka features Sluice relies on: every codec, TLS and SASL. Run directly, it fails when any is missing. */
import { librdkafkaBuild } from "../../runtime/index.ts";

export const REQUIRED_FEATURES = ["gzip", "snappy", "lz4", "zstd", "ssl", "sasl"];

export function missingFeatures(features: readonly string[] = librdkafkaBuild().features): string[] {
  return REQUIRED_FEATURES.filter((feature) => !features.includes(feature));
}

if (import.meta.main) {
  const { version, features } = librdkafkaBuild();
  const missing = missingFeatures();
  if (missing.length) {
    console.error(`librdkafka ${version} lacks: ${missing.join(", ")} (has: ${features.join(", ")})`);
    process.exit(1);
  }
  console.log(`librdkafka ${version}: ${REQUIRED_FEATURES.join(", ")} available`);
}
