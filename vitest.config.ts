import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// The tests must not read the developer's own ~/.config/hotslot/config.json, nor leave recordings
// in their ~/.local/state: both XDG homes point at an empty folder of the run's own.
const home = mkdtempSync(join(tmpdir(), 'hotslot-test-xdg-'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/lab/**', 'node_modules/**'],
    env: { XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state') },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real QEMU guests are heavy under TCG on 2 cores: keep files from piling up.
    maxWorkers: 2,
    globalSetup: ['./test/support/build-once.ts'],
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
