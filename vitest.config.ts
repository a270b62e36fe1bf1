import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The package exports its built dist/; tests (and the walkers they load) use the sources, no build.
  resolve: {
    alias: [
      { find: /^walker-hub$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^walker-hub\/client$/, replacement: fileURLToPath(new URL('./src/client/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 15_000,
    hookTimeout: 30_000,
    // Hubs are started per file on port 0; files may run in parallel.
    pool: 'forks',
  },
});
