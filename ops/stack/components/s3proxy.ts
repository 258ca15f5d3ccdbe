/**
 * S3Proxy (org.gaul:s3proxy from Maven Central) on its filesystem backend: an S3-compatible store for the archive
 * sink's S3 target, started only by `sluice stack up --with s3`. Objects live in .sluice/data/s3. Local only, so it
 * takes any credentials (the AWS SDK signs requests; S3Proxy does not check them).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { redact } from "../../../runtime/index.ts";
import type { Component, Health } from "../component.ts";
import { findJdk } from "../java.ts";
import { downloadedJar } from "../maven.ts";
import { hostPort } from "../net.ts";
import { logFile, startDetached, stopOwned } from "../process.ts";
import { stackConfig } from "../stack-config.ts";

export const LOCAL_S3_ENDPOINT = "http://127.0.0.1:8333";

export function s3proxyComponent(): Component {
  const url = process.env.ARCHIVE_S3_ENDPOINT || LOCAL_S3_ENDPOINT;
  const { s3proxyVersion: version, dataDir, runDir } = stackConfig();
  const { port } = hostPort(url, 8333);
  return {
    name: "s3proxy",
    address: redact(url),
    local: url === LOCAL_S3_ENDPOINT,
    startTimeoutMs: 60_000,
    logFile: logFile("s3proxy"),
    async probe(): Promise<Health> {
      try {
        // Anonymous: an S3 endpoint answers 403 when it is up.
        const answer = await fetch(url, { signal: AbortSignal.timeout(3_000) });
        return { healthy: answer.status === 200 || answer.status === 403, detail: `GET / answered ${answer.status}` };
      } catch (error) {
        return { healthy: false, detail: (error as Error).message };
      }
    },
    async start(progress) {
      const jdk = findJdk(17);
      progress(`fetching s3proxy:${version} from Maven Central`);
      const jar = await downloadedJar({
        group: "org.gaul",
        artifact: "s3proxy",
        version,
        classifier: "jar-with-dependencies",
      });
      const data = path.join(dataDir, "s3");
      mkdirSync(data, { recursive: true });
      mkdirSync(runDir, { recursive: true });
      const properties = path.join(runDir, "s3proxy.properties");
      writeFileSync(
        properties,
        [
          `s3proxy.endpoint=http://127.0.0.1:${port}`,
          "s3proxy.authorization=none",
          "jclouds.provider=filesystem",
          `jclouds.filesystem.basedir=${data}`,
          "",
        ].join("\n"),
      );
      startDetached("s3proxy", { command: jdk.java, args: ["-Xmx128m", "-jar", jar, "--properties", properties] });
    },
    stop: () => stopOwned("s3proxy"),
  };
}
