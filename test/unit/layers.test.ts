import path from "node:path";
import { describe, expect, it } from "vitest";
import { layerViolations, projectFiles } from "../support/layers.ts";

describe("layers", () => {
  it("point one way: topics ← schemas ← runtime ← processors, connectors, services ← ops", () => {
    expect(layerViolations(projectFiles(path.resolve(import.meta.dirname, "../..")))).toEqual([]);
  });

  it("would catch an upward import, a domain import in the runtime, a reach past its face, a stray client", () => {
    const violations = layerViolations([
      { file: "topics/topic.ts", text: 'import { AvroSerde } from "../runtime/index.ts";' },
      { file: "runtime/runner/runner.ts", text: 'import { TOPICS } from "../../topics/catalog.ts";' },
      { file: "runtime/host.ts", text: 'import { PROCESSORS } from "../processors/registry.ts";' },
      { file: "processors/points/grant-points.ts", text: 'import { HEADER } from "../../runtime/headers.ts";' },
      { file: "ops/cli/commands/tail.ts", text: 'import kafkajs from "kafkajs";' },
    ]);
    expect(violations).toEqual([
      "topics/topic.ts → ../runtime/index.ts: topics may not import runtime",
      "runtime/runner/runner.ts → ../../topics/catalog.ts: the runtime imports no domain",
      "runtime/host.ts → ../processors/registry.ts: runtime may not import processors",
      "processors/points/grant-points.ts → ../../runtime/headers.ts: outside the runtime, import runtime/index.ts (or runtime/testing/index.ts)",
      "ops/cli/commands/tail.ts → kafkajs: only the runtime's librdkafka adapter imports a Kafka client",
    ]);
  });
});
