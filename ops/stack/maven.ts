/**
 * Brings the stack's binaries from Maven Central: Kafka's classpath through Maven itself (ops/stack/pom.xml),
 * and the registry and Elasticsearch as single zips, unpacked once into .sluice/dist.
 */
import { execFileSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ROOT, stackConfig } from "./stack-config.ts";

export function kafkaLibs(version: string): string {
  const { distDir } = stackConfig();
  const libs = path.join(distDir, `kafka-${version}`, "libs");
  if (!existsSync(path.join(libs, `kafka_2.13-${version}.jar`))) {
    execFileSync(
      "mvn",
      [
        "-B",
        "-q",
        "-f",
        path.join(ROOT, "ops/stack/pom.xml"),
        "package",
        `-Dkafka.version=${version}`,
        `-Ddist.dir=${distDir}`,
      ],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
  }
  return libs;
}

export interface ZipArtifact {
  group: string;
  artifact: string;
  version: string;
  classifier?: string;
}

/** Downloads and unpacks a zip artifact once; returns the folder it was unpacked into. */
export async function unpackedZip(zip: ZipArtifact): Promise<string> {
  const { distDir, mavenRepository } = stackConfig();
  const name = `${zip.artifact}-${zip.version}${zip.classifier ? `-${zip.classifier}` : ""}`;
  const target = path.join(distDir, name);
  if (existsSync(path.join(target, ".unpacked"))) return target;
  mkdirSync(distDir, { recursive: true });
  const url = `${mavenRepository}/${zip.group.replaceAll(".", "/")}/${zip.artifact}/${zip.version}/${name}.zip`;
  const file = path.join(distDir, `${name}.zip`);
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`download failed: ${url} answered ${response.status}`);
  await pipeline(Readable.fromWeb(response.body), createWriteStream(`${file}.part`));
  renameSync(`${file}.part`, file);
  rmSync(target, { recursive: true, force: true });
  execFileSync("unzip", ["-q", file, "-d", target]);
  rmSync(file);
  execFileSync("touch", [path.join(target, ".unpacked")]);
  return target;
}
