import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Integration tests share one local broker and registry on a 2-core machine: one file at a time.
    fileParallelism: false,
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/integration/stack-ready.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // Outages of the stack's parts: slow, so not in `npm test`; ops/test.sh runs them with short outages.
        test: {
          name: "chaos",
          include: ["test/chaos/**/*.test.ts"],
          globalSetup: ["test/integration/stack-ready.ts"],
          testTimeout: 600_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The image of ops/container/Containerfile against the stack: builds it first when it is missing.
        test: {
          name: "container",
          include: ["test/container/**/*.test.ts"],
          globalSetup: ["test/integration/stack-ready.ts"],
          testTimeout: 120_000,
          hookTimeout: 1_800_000,
        },
      },
    ],
  },
});
