import { defineConfig } from 'vitest/config';

// Only for scripts/record-example.mjs: runs the generator, which is not a test.
export default defineConfig({
  test: {
    include: ['test/generators/record-example.generate.ts'],
    environment: 'node',
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
