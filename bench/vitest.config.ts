import { defineConfig } from 'vitest/config';

// `pnpm --filter @im/bench test` until the root config includes bench/test (pure tests only: no server, no timing).
export default defineConfig({
  test: { include: ['test/**/*.test.ts'] },
});
