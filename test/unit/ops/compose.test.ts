/**
 * ops/compose.yaml, checked without Docker: every processor, sink and connector `sluice run` knows has a service on
 * the image of ops/container/Containerfile, and the services can run side by side on the host's network.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { deploymentDefinitions } from "../../../ops/deployment.ts";

const OPS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../ops");

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  network_mode?: string;
  depends_on?: string[];
  environment?: Record<string, string | number>;
  profiles?: string[];
}

// Merge keys (`<<: *processor`) as Docker Compose reads them.
const compose = parse(readFileSync(path.join(OPS, "compose.yaml"), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
};
const runs = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === "run");

describe("ops/compose.yaml", () => {
  it("has a service running each processor, sink and connector, and none that `sluice run` does not know", () => {
    const names = deploymentDefinitions().map((d) => d.name);
    const commands = runs.map(([, s]) => s.command);
    for (const name of names) expect(commands).toContainEqual(["run", name]);
    expect(runs.map(([, s]) => s.command?.[1]).sort()).toEqual([...names].sort());
  });

  it("runs them on the image of ops/container/Containerfile, after the stack, in the processors profile", () => {
    for (const [name, service] of runs) {
      expect(service.image, name).toBe("localhost/sluice:0.1.0");
      expect(service.build?.dockerfile, name).toBe("ops/container/Containerfile");
      expect(existsSync(path.resolve(OPS, service.build?.context ?? "", service.build?.dockerfile ?? "")), name).toBe(
        true,
      );
      expect(service.depends_on, name).toEqual(expect.arrayContaining(["kafka", "schema-registry"]));
      expect(service.profiles, name).toEqual(["processors"]);
    }
  });

  it("reaches Kafka at the address it advertises, each process with its own port and instance id", () => {
    const advertised = String(compose.services.kafka?.environment?.KAFKA_ADVERTISED_LISTENERS);
    const env = runs.map(([, s]) => s.environment ?? {});
    for (const [name, service] of runs) {
      expect(service.network_mode, name).toBe("host");
      expect(advertised).toContain(`//${service.environment?.KAFKA_BROKERS}`);
    }
    expect(new Set(env.map((e) => e.SLUICE_HTTP_PORT)).size).toBe(runs.length);
    expect(new Set(env.map((e) => e.SLUICE_INSTANCE_ID)).size).toBe(runs.length);
  });
});
