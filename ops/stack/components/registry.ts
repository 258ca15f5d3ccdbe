/**
 * Apicurio Registry 3.x from Maven Central, serving the Confluent-compatible API at /apis/ccompat/v7.
 * Storage is an H2 file in .sluice/data/registry, so schema ids survive restarts like the topics that carry them.
 */
import path from "node:path";
import { LOCAL_ENDPOINTS, redact, runtimeConfig } from "../../../runtime/index.ts";
import type { Component, Health } from "../component.ts";
import { findJdk } from "../java.ts";
import { unpackedZip } from "../maven.ts";
import { hostPort } from "../net.ts";
import { logFile, startDetached, stopOwned } from "../process.ts";
import { stackConfig } from "../stack-config.ts";

export function registryComponent(): Component {
  const url = runtimeConfig().schemaRegistryUrl;
  const { apicurioVersion: version, registryHeap, dataDir } = stackConfig();
  const { port } = hostPort(url, 8081);
  return {
    name: "schema-registry",
    address: redact(url),
    local: url === LOCAL_ENDPOINTS.schemaRegistryUrl,
    startTimeoutMs: 120_000,
    logFile: logFile("schema-registry"),
    async probe(): Promise<Health> {
      try {
        const subjects = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(3_000) });
        if (!subjects.ok) return { healthy: false, detail: `GET /subjects answered ${subjects.status}` };
        const count = ((await subjects.json()) as unknown[]).length;
        return { healthy: true, version: await apicurioVersion(url), detail: `${count} subjects` };
      } catch (error) {
        return { healthy: false, detail: (error as Error).message };
      }
    },
    async start(progress) {
      const jdk = findJdk(17);
      progress(`fetching apicurio-registry-app:${version} from Maven Central`);
      const dir = await unpackedZip({
        group: "io.apicurio",
        artifact: "apicurio-registry-app",
        version: version,
        classifier: "all",
      });
      const h2 = path.join(dataDir, "registry", "registry");
      startDetached("schema-registry", {
        command: jdk.java,
        args: [
          `-Xmx${registryHeap}`,
          "-Dquarkus.http.host=127.0.0.1",
          `-Dquarkus.http.port=${port}`,
          "-Dapicurio.storage.kind=sql",
          "-Dapicurio.storage.sql.kind=h2",
          `-Dapicurio.datasource.url=jdbc:h2:file:${h2};DB_CLOSE_ON_EXIT=FALSE`,
          "-Dapicurio.datasource.username=sa",
          "-Dapicurio.datasource.password=sa",
          // Tests and operators may delete a subject, as on a Confluent registry.
          "-Dapicurio.rest.deletion.artifact.enabled=true",
          "-Dapicurio.rest.deletion.artifact-version.enabled=true",
          "-jar",
          path.join(dir, `apicurio-registry-app-${version}-runner.jar`),
        ],
      });
    },
    stop: () => stopOwned("schema-registry"),
  };
}

/** Apicurio reports its version beside the ccompat API; other registries may not, and that is fine. */
async function apicurioVersion(ccompatUrl: string): Promise<string | undefined> {
  try {
    const info = await fetch(`${new URL(ccompatUrl).origin}/apis/registry/v3/system/info`, {
      signal: AbortSignal.timeout(3_000),
    });
    if (!info.ok) return undefined;
    const body = (await info.json()) as { name?: string; version?: string };
    return body.version ? `Apicurio ${body.version}` : undefined;
  } catch {
    return undefined;
  }
}
