/** `sluice stack up | down | status`: the local stack as one unit. */
import { setTimeout as sleep } from "node:timers/promises";
import { SluiceError } from "../../topics/errors.ts";
import type { Component, Health } from "./component.ts";
import { elasticsearchComponent } from "./components/elasticsearch.ts";
import { kafkaComponent } from "./components/kafka.ts";
import { postgresComponent, redisComponent } from "./components/machine-services.ts";
import { registryComponent } from "./components/registry.ts";
import { s3proxyComponent } from "./components/s3proxy.ts";
import { ownedPid, tail } from "./process.ts";

/** Components started only when asked for (`--with s3`). */
export const OPTIONAL_COMPONENTS = { s3: s3proxyComponent } as const;
export type OptionalComponent = keyof typeof OPTIONAL_COMPONENTS;

export function stackComponents(optional: readonly OptionalComponent[] = []): Component[] {
  return [
    postgresComponent(),
    redisComponent(),
    kafkaComponent(),
    registryComponent(),
    elasticsearchComponent(),
    ...optional.map((name) => OPTIONAL_COMPONENTS[name]()),
  ];
}

const say = (line: string) => console.log(`[stack] ${line}`);

export async function stackUp(components = stackComponents()): Promise<void> {
  const health = await Promise.all(components.map((c) => c.probe()));
  const toStart: Component[] = [];
  components.forEach((component, i) => {
    if (health[i]?.healthy) say(`${component.name}: running at ${component.address}, reused`);
    else if (!component.local) {
      throw new SluiceError(
        "STACK_UNREACHABLE",
        `${component.name} at ${component.address} is not healthy (${health[i]?.detail}); it is external, so sluice does not start it`,
      );
    } else toStart.push(component);
  });
  // Start one after the other (downloads and Maven print their own progress), then wait for all at once.
  for (const component of toStart) {
    say(`${component.name}: starting`);
    await component.start((line) => say(`${component.name}: ${line}`));
  }
  await Promise.all(toStart.map(waitReady));
  say("all components healthy");
}

async function waitReady(component: Component): Promise<void> {
  const started = Date.now();
  let last: Health = { healthy: false };
  while (Date.now() - started < component.startTimeoutMs) {
    last = await component.probe();
    if (last.healthy) {
      say(`${component.name}: ready at ${component.address} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      return;
    }
    if (component.logFile && ownedPid(component.name) === undefined) break; // it died: no point waiting
    await sleep(1_000);
  }
  const why = component.logFile && ownedPid(component.name) === undefined ? "exited" : "did not become ready";
  const log = component.logFile ? `\n--- last lines of ${component.logFile} ---\n${tail(component.logFile)}` : "";
  throw new SluiceError(
    "STACK_START_FAILED",
    `${component.name} ${why} within ${component.startTimeoutMs / 1000}s (${last.detail ?? "no detail"})${log}`,
  );
}

/** Stops what `up` started, the optional components too. */
export async function stackDown(components = stackComponents(["s3"])): Promise<void> {
  for (const component of [...components].reverse()) {
    const stopped = await component.stop();
    say(`${component.name}: ${stopped ? "stopped" : "not started by sluice, left alone"}`);
  }
}

/** Prints one line per component; resolves to whether every component is healthy. */
export async function stackStatus(components = stackComponents()): Promise<boolean> {
  const health = await Promise.all(components.map((c) => c.probe()));
  const rows = components.map((c, i) => {
    const h = health[i] ?? { healthy: false };
    return [c.name, c.address, h.version ?? "-", h.healthy ? "healthy" : "DOWN", h.detail ?? ""];
  });
  const widths = [0, 1, 2, 3].map((col) => Math.max(...rows.map((r) => r[col]?.length ?? 0)));
  for (const row of rows) {
    console.log(
      row
        .map((cell, col) => (col < 4 ? cell.padEnd(widths[col] ?? 0) : cell))
        .join("  ")
        .trimEnd(),
    );
  }
  return health.every((h) => h.healthy);
}
