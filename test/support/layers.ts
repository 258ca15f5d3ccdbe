/**
 * The layering rule of DESIGN.md and the runtime-layer issue, as a check over import statements:
 * `topics` ← `schemas` ← `runtime` ← `processors`, `connectors`, `services` ← `ops` (tests may import anything).
 * Outside the runtime, code imports it only through its faces (runtime/index.ts, runtime/testing/index.ts);
 * the platform's layers import nothing of a domain (the catalog, the generated types, processors); and only the runtime's
 * Kafka adapter imports a Kafka client.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const LAYERS = ["topics", "schemas", "runtime", "processors", "connectors", "services", "ops", "test"] as const;
type Layer = (typeof LAYERS)[number];

/** What each layer may import from. */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  topics: ["topics"],
  schemas: ["topics", "schemas"],
  runtime: ["topics", "schemas", "runtime"],
  processors: ["topics", "schemas", "runtime", "processors"],
  connectors: ["topics", "schemas", "runtime", "connectors"],
  services: ["topics", "schemas", "runtime", "processors", "connectors", "services"],
  ops: ["topics", "schemas", "runtime", "processors", "connectors", "services", "ops"],
  test: LAYERS,
};

const RUNTIME_FACES = ["runtime/index.ts", "runtime/testing/index.ts"];
/**
 * The reference domain: no layer below it may know it. Processors, connectors (the log pipeline reads logs.app)
 * and services are the domain's own, and know its catalog and types.
 */
const DOMAIN = ["topics/catalog.ts", "schemas/types.generated.ts", "processors/"];
const BELOW_DOMAIN: readonly Layer[] = ["topics", "schemas", "runtime"];
const KAFKA_CLIENTS = ["@confluentinc/kafka-javascript", "kafkajs"];
const KAFKA_ADAPTER = "runtime/kafka/librdkafka/";
/** Unit tests of the runtime's internals, and the bench's raw-client baselines, reach past the faces on purpose. */
const INTERNAL_TESTS = "test/unit/runtime/";
const CLIENT_BASELINES = "test/bench/bench.ts";

export interface SourceFile {
  /** Relative to the project root, with forward slashes. */
  file: string;
  text: string;
}

export function projectFiles(root: string): SourceFile[] {
  return LAYERS.flatMap((layer) => {
    const dir = path.join(root, layer);
    let entries: string[];
    try {
      entries = readdirSync(dir, { recursive: true }).map(String);
    } catch {
      return [];
    }
    return entries
      .filter((f) => f.endsWith(".ts"))
      .map((f) => ({ file: `${layer}/${f}`, text: readFileSync(path.join(dir, f), "utf8") }));
  });
}

/** Every import that breaks the rule, as `file → target: why`. */
export function layerViolations(files: readonly SourceFile[]): string[] {
  const violations: string[] = [];
  for (const { file, text } of files) {
    const from = layerOf(file);
    if (!from) continue;
    for (const specifier of importsOf(text)) {
      const problem = specifier.startsWith(".") ? localProblem(file, from, specifier) : packageProblem(file, specifier);
      if (problem) violations.push(`${file} → ${specifier}: ${problem}`);
    }
  }
  return violations;
}

function localProblem(file: string, from: Layer, specifier: string): string | undefined {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
  const to = layerOf(target);
  if (!to) return undefined;
  if (!ALLOWED[from].includes(to)) return `${from} may not import ${to}`;
  if (from === "runtime" && DOMAIN.some((d) => target.startsWith(d))) return "the runtime imports no domain";
  if (BELOW_DOMAIN.includes(from) && DOMAIN.some((d) => target.startsWith(d))) return `${from} imports no domain`;
  if (to === "runtime" && from !== "runtime" && !RUNTIME_FACES.includes(target) && !file.startsWith(INTERNAL_TESTS)) {
    return "outside the runtime, import runtime/index.ts (or runtime/testing/index.ts)";
  }
  return undefined;
}

function packageProblem(file: string, specifier: string): string | undefined {
  const client = KAFKA_CLIENTS.some((c) => specifier === c || specifier.startsWith(`${c}/`));
  if (client && !file.startsWith(KAFKA_ADAPTER) && file !== CLIENT_BASELINES)
    return "only the runtime's librdkafka adapter imports a Kafka client";
  return undefined;
}

function layerOf(file: string): Layer | undefined {
  const top = file.split("/")[0];
  return LAYERS.find((l) => l === top);
}

/** The specifiers of a module's static and dynamic imports and re-exports. */
function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*["']([^"']+)["']/g)) {
    specifiers.push(match[1] as string);
  }
  for (const match of text.matchAll(/(?:^|\n)\s*import\s*["']([^"']+)["']/g)) specifiers.push(match[1] as string);
  for (const match of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) specifiers.push(match[1] as string);
  return specifiers;
}
