/**
 * Elasticsearch, the integration-test distribution from Maven Central, single node on loopback.
 * It refuses to run as root: as root, the stack runs it as the system user `sluice`, from a home that user owns.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import { LOCAL_ENDPOINTS, redact, runtimeConfig } from "../../../runtime/index.ts";
import type { Component, Health } from "../component.ts";
import { findJdk } from "../java.ts";
import { unpackedZip } from "../maven.ts";
import { hostPort } from "../net.ts";
import { logFile, startDetached, stopOwned } from "../process.ts";
import { stackConfig } from "../stack-config.ts";

export function elasticsearchComponent(): Component {
  const url = runtimeConfig().elasticsearchUrl;
  const { elasticsearchVersion, elasticsearchHeap, dataDir: stateData } = stackConfig();
  const { port } = hostPort(url, 9200);
  return {
    name: "elasticsearch",
    address: redact(url),
    local: url === LOCAL_ENDPOINTS.elasticsearchUrl,
    startTimeoutMs: 120_000,
    logFile: logFile("elasticsearch"),
    async probe(): Promise<Health> {
      try {
        const health = await fetch(`${url}/_cluster/health`, { signal: AbortSignal.timeout(3_000) });
        if (!health.ok) return { healthy: false, detail: `GET /_cluster/health answered ${health.status}` };
        const { status } = (await health.json()) as { status: string };
        const nodes = await fetch(`${url}/_nodes/_local?filter_path=nodes.*.version`, {
          signal: AbortSignal.timeout(3_000),
        });
        const body = (await nodes.json()) as { nodes?: Record<string, { version: string }> };
        const version = Object.values(body.nodes ?? {})[0]?.version;
        return { healthy: status === "green" || status === "yellow", version, detail: `cluster ${status}` };
      } catch (error) {
        return { healthy: false, detail: (error as Error).message };
      }
    },
    async start(progress) {
      const jdk = findJdk(17);
      progress(`fetching elasticsearch integ-test-zip:${elasticsearchVersion} from Maven Central`);
      const unpacked = await unpackedZip({
        group: "org.elasticsearch.distribution.integ-test-zip",
        artifact: "elasticsearch",
        version: elasticsearchVersion,
      });
      const dist = path.join(unpacked, `elasticsearch-${elasticsearchVersion}`);
      const asRoot = userInfo().uid === 0;
      const { home, dataDir, uid, gid } = asRoot
        ? prepareServiceUserHome(dist)
        : { home: dist, dataDir: path.join(stateData, "elasticsearch"), uid: undefined, gid: undefined };
      startDetached("elasticsearch", {
        command: path.join(home, "bin", "elasticsearch"),
        args: [
          "-E",
          "discovery.type=single-node",
          "-E",
          "cluster.name=sluice",
          "-E",
          "http.host=127.0.0.1",
          "-E",
          `http.port=${port}`,
          "-E",
          "transport.host=127.0.0.1",
          "-E",
          `path.data=${dataDir}`,
          "-E",
          "xpack.security.enabled=false",
          // A nearly full dev disk must not turn every index read-only.
          "-E",
          "cluster.routing.allocation.disk.threshold_enabled=false",
        ],
        cwd: home,
        env: {
          ES_JAVA_HOME: jdk.home,
          ES_JAVA_OPTS: `-Xms${elasticsearchHeap} -Xmx${elasticsearchHeap}`,
        },
        uid,
        gid,
      });
    },
    stop: () => stopOwned("elasticsearch"),
  };
}

function prepareServiceUserHome(dist: string) {
  const { serviceUser, esHome, elasticsearchVersion } = stackConfig();
  if (!userExists(serviceUser)) {
    execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", serviceUser]);
  }
  const uid = Number(execFileSync("id", ["-u", serviceUser], { encoding: "utf8" }));
  const gid = Number(execFileSync("id", ["-g", serviceUser], { encoding: "utf8" }));
  const home = path.join(esHome, `elasticsearch-${elasticsearchVersion}`);
  const dataDir = path.join(esHome, "data");
  mkdirSync(esHome, { recursive: true });
  if (!existsSync(path.join(home, "bin", "elasticsearch"))) cpSync(dist, home, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  execFileSync("chown", ["-R", `${uid}:${gid}`, esHome]);
  return { home, dataDir, uid, gid };
}

function userExists(name: string): boolean {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
