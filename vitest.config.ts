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
    ],
  },
});
