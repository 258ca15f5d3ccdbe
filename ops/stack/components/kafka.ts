/**
 * Apache Kafka in KRaft mode, broker and controller in one JVM, from Maven Central jars.
 * Loopback listeners, internal topics with replication 1, no initial rebalance delay, data in .sluice/data/kafka.
 */

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { LOCAL_ENDPOINTS, librdkafka, runtimeConfig } from "../../../runtime/index.ts";
import type { Component, Health } from "../component.ts";
import { findJdk } from "../java.ts";
import { kafkaLibs } from "../maven.ts";
import { hostPort, tcpReachable, withTimeout } from "../net.ts";
import { logFile, ownedPid, startDetached, stopOwned } from "../process.ts";
import { ROOT, stackConfig } from "../stack-config.ts";

export function kafkaComponent(): Component {
  const brokers = runtimeConfig().kafkaBrokers;
  const { kafkaVersion, kafkaHeap, dataDir: stateData } = stackConfig();
  const local = brokers.join(",") === LOCAL_ENDPOINTS.kafkaBrokers.join(",");
  const { host, port } = hostPort(brokers[0] ?? "", 9092);
  return {
    name: "kafka",
    address: brokers.join(","),
    local,
    startTimeoutMs: 90_000,
    logFile: logFile("kafka"),
    async probe(): Promise<Health> {
      if (!(await tcpReachable(host, port))) return { healthy: false, detail: "not listening" };
      const admin = librdkafka({ brokers, clientId: "sluice-stack-probe" }).admin();
      try {
        await withTimeout(admin.connect(), 5_000, "connect timed out");
        const topics = await withTimeout(admin.listTopics(), 6_000, "metadata timed out");
        const version = ownedPid("kafka") !== undefined || local ? kafkaVersion : undefined;
        return { healthy: true, version, detail: `${topics.length} topics` };
      } catch (error) {
        return { healthy: false, detail: (error as Error).message };
      } finally {
        await admin.disconnect().catch(() => {});
      }
    },
    async start(progress) {
      const jdk = findJdk(17);
      progress(`resolving kafka_2.13:${kafkaVersion} from Maven Central`);
      const libs = kafkaLibs(kafkaVersion);
      const dataDir = path.join(stateData, "kafka");
      const config = writeServerProperties(dataDir, port);
      const classpath = `${libs}/*`;
      if (!existsSync(path.join(dataDir, "meta.properties"))) {
        progress("formatting the KRaft storage");
        mkdirSync(dataDir, { recursive: true });
        execFileSync(
          jdk.java,
          ["-cp", classpath, "kafka.tools.StorageTool", "format", "-t", clusterId(), "-c", config],
          {
            stdio: "ignore",
          },
        );
      }
      startDetached("kafka", {
        command: jdk.java,
        args: [
          `-Xmx${kafkaHeap}`,
          "-XX:+UseG1GC",
          `-Dlog4j2.configurationFile=${path.join(ROOT, "ops/stack/kafka/log4j2.properties")}`,
          "-cp",
          classpath,
          "kafka.Kafka",
          config,
        ],
      });
    },
    stop: () => stopOwned("kafka"),
  };
}

function writeServerProperties(dataDir: string, port: number): string {
  const { kafkaControllerPort, runDir } = stackConfig();
  const controllerPort = kafkaControllerPort ?? port + 1;
  const file = path.join(runDir, "kafka-server.properties");
  mkdirSync(runDir, { recursive: true });
  const settings: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.voters": `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${port}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "log.dirs": dataDir,
    // Topics are code: a typo in a topic name must fail, not create a topic.
    "auto.create.topics.enable": false,
    "num.partitions": 1,
    "offsets.topic.replication.factor": 1,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    "group.initial.rebalance.delay.ms": 0,
  };
  const text = Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
  writeFileSync(file, `# Written by \`sluice stack up\`; edits are overwritten.\n${text}\n`);
  return file;
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (Kafka's Uuid format). */
function clusterId(): string {
  return randomBytes(16).toString("base64url");
}
