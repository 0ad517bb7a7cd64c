import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** vitest globalSetup: CLI tests run the built `dist/`, so build it once before any test file. */
export default function setup(): void {
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed before the tests:\n${r.stdout}${r.stderr}`);
}
