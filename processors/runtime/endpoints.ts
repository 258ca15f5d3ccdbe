/**
 * Where every service lives. Each address comes from the environment when set, so the same code runs
 * against a managed cluster; the defaults are the local stack that `sluice stack up` starts.
 */
export interface Endpoints {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  elasticsearchUrl: string;
  databaseUrl: string;
  redisUrl: string;
}

export const LOCAL_ENDPOINTS: Endpoints = {
  kafkaBrokers: ["127.0.0.1:9092"],
  schemaRegistryUrl: "http://127.0.0.1:8081/apis/ccompat/v7",
  elasticsearchUrl: "http://127.0.0.1:9200",
  databaseUrl: "postgres://postgres@127.0.0.1:5432/test",
  redisUrl: "redis://127.0.0.1:6379",
};

export function endpointsFromEnv(env: NodeJS.ProcessEnv = process.env): Endpoints {
  const brokers = env.KAFKA_BROKERS?.split(",")
    .map((b) => b.trim())
    .filter(Boolean);
  return {
    kafkaBrokers: brokers?.length ? brokers : LOCAL_ENDPOINTS.kafkaBrokers,
    schemaRegistryUrl: trimSlash(env.SCHEMA_REGISTRY_URL || LOCAL_ENDPOINTS.schemaRegistryUrl),
    elasticsearchUrl: trimSlash(env.ELASTICSEARCH_URL || LOCAL_ENDPOINTS.elasticsearchUrl),
    databaseUrl: env.DATABASE_URL || LOCAL_ENDPOINTS.databaseUrl,
    redisUrl: env.REDIS_URL || LOCAL_ENDPOINTS.redisUrl,
  };
}

/** An address safe to print: credentials in a URL are replaced by `***`. */
export function redact(address: string): string {
  try {
    const url = new URL(address);
    if (url.password) url.password = "***";
    return url.toString().replace(/\/$/, "");
  } catch {
    return address;
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
