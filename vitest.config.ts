import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The package's own entry points, as the examples import them (tsconfig.json maps them too).
const entry = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^masque$/, replacement: entry('./src/index.ts') },
      { find: /^masque\/http3$/, replacement: entry('./src/http3-api.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Fixed fast-check seed (override with MASQUE_FC_SEED); see the file.
    setupFiles: ['test/support/fast-check-seed.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
