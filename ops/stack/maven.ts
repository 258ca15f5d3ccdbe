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

/** Downloads a jar artifact once; returns its path. */
export async function downloadedJar(jar: ZipArtifact): Promise<string> {
  const { distDir } = stackConfig();
  const name = `${jar.artifact}-${jar.version}${jar.classifier ? `-${jar.classifier}` : ""}.jar`;
  const file = path.join(distDir, name);
  if (!existsSync(file)) await download(jar, name, file);
  return file;
}

async function download(artifact: ZipArtifact, name: string, file: string): Promise<void> {
  const { distDir, mavenRepository } = stackConfig();
  mkdirSync(distDir, { recursive: true });
  const url = `${mavenRepository}/${artifact.group.replaceAll(".", "/")}/${artifact.artifact}/${artifact.version}/${name}`;
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`download failed: ${url} answered ${response.status}`);
  await pipeline(Readable.fromWeb(response.body), createWriteStream(`${file}.part`));
  renameSync(`${file}.part`, file);
}

/** Downloads and unpacks a zip artifact once; returns the folder it was unpacked into. */
export async function unpackedZip(zip: ZipArtifact): Promise<string> {
  const { distDir } = stackConfig();
  const name = `${zip.artifact}-${zip.version}${zip.classifier ? `-${zip.classifier}` : ""}`;
  const target = path.join(distDir, name);
  if (existsSync(path.join(target, ".unpacked"))) return target;
  const file = path.join(distDir, `${name}.zip`);
  await download(zip, `${name}.zip`, file);
  rmSync(target, { recursive: true, force: true });
  execFileSync("unzip", ["-q", file, "-d", target]);
  rmSync(file);
  execFileSync("touch", [path.join(target, ".unpacked")]);
  return target;
}
