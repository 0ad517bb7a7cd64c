import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/lab/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real QEMU guests are heavy under TCG on 2 cores: keep files from piling up.
    maxWorkers: 2,
    globalSetup: ['./test/support/build-once.ts'],
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
