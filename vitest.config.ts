import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 15_000,
    hookTimeout: 30_000,
    // Hubs are started per file on port 0; files may run in parallel.
    pool: 'forks',
  },
});
