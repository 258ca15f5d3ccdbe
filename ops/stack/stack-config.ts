/**
 * The local stack's settings, read from the environment once, on first use: versions, heaps, and where its
 * binaries, data, pid files and logs live (all under the git-ignored `.sluice/` unless SLUICE_STATE_DIR says).
 * Addresses are the runtime's (runtime/config.ts).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { integerVar } from "../../runtime/index.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface StackConfig {
  stateDir: string;
  distDir: string;
  dataDir: string;
  runDir: string;
  logDir: string;
  kafkaVersion: string;
  kafkaHeap: string;
  /** The KRaft controller's port; the broker's plus one by default. */
  kafkaControllerPort: number | undefined;
  apicurioVersion: string;
  registryHeap: string;
  elasticsearchVersion: string;
  elasticsearchHeap: string;
  s3proxyVersion: string;
  /** Elasticsearch refuses to run as root: started by root, it runs as this system user, from `esHome`. */
  serviceUser: string;
  esHome: string;
  mavenRepository: string;
  javaHome: string | undefined;
}

let config: StackConfig | undefined;

export function stackConfig(): StackConfig {
  if (config) return config;
  const { env } = process;
  const stateDir = env.SLUICE_STATE_DIR || path.join(ROOT, ".sluice");
  config = {
    stateDir,
    distDir: path.join(stateDir, "dist"),
    dataDir: path.join(stateDir, "data"),
    runDir: path.join(stateDir, "run"),
    logDir: path.join(stateDir, "logs"),
    kafkaVersion: env.SLUICE_KAFKA_VERSION || "4.3.1",
    kafkaHeap: env.SLUICE_KAFKA_HEAP || "1g",
    kafkaControllerPort: env.SLUICE_KAFKA_CONTROLLER_PORT
      ? integerVar(env, "SLUICE_KAFKA_CONTROLLER_PORT", 0, { max: 65_535 })
      : undefined,
    apicurioVersion: env.SLUICE_APICURIO_VERSION || "3.0.9",
    registryHeap: env.SLUICE_REGISTRY_HEAP || "384m",
    elasticsearchVersion: env.SLUICE_ELASTICSEARCH_VERSION || "8.19.21",
    elasticsearchHeap: env.SLUICE_ES_HEAP || "512m",
    s3proxyVersion: env.SLUICE_S3PROXY_VERSION || "4.1.0",
    serviceUser: env.SLUICE_SERVICE_USER || "sluice",
    esHome: env.SLUICE_ES_HOME || "/var/lib/sluice/elasticsearch",
    mavenRepository: (env.MAVEN_REPOSITORY_URL || "https://repo.maven.apache.org/maven2").replace(/\/+$/, ""),
    javaHome: env.JAVA_HOME,
  };
  return config;
}
