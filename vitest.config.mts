import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "junit"],
    outputFile: { junit: "test-results/junit.xml" },
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Each file sets Pulumi's global mock runtime for itself.
          isolate: true,
          // Unit files run beside the e2e files, whose sandbox boots and package installs load
          // both cores: a test that spawns bash may then wait seconds for a CPU.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // Each file boots its own sandbox host; they share the loop devices and port ranges, so one at a time.
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
