import { defineConfig } from 'vitest/config';

// Three projects: unit (pure, fast), integration (real sshd + dockerd), e2e (Chromium over `ptw serve`).
export default defineConfig({
  test: {
    // Integration files each start their own sshd/dockerd; two at a time is what a 2-core CI machine affords.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.{ts,tsx}'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'e2e',
          // expect.poll waits 1 s by default: too short for a browser on a loaded 2-core CI machine.
          expect: { poll: { timeout: 15_000, interval: 100 } },
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
