/**
 * `list` and `check` answer in about the time lspci takes on a host of 4,096 functions
 * (bench/scan.mjs); a third of that budget is Node starting. They must not pay for libraries that
 * only other commands use: zod (the config and theme schemas, the recording format), RxJS (live
 * sessions) and blessed (the dashboard). The built CLI runs with a preload that logs every module
 * it loads; a run with a config file shows that the log does catch zod when it is needed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHostTree, type BuiltTree } from '../../src/host/sysfs-builder.js';
import { hotslot } from '../support/hotslot-cli.js';

const RECORDER = pathToFileURL(join(import.meta.dirname, '..', 'support', 'module-recorder.mjs')).href;
const HEAVY = /node_modules\/(zod|rxjs|blessed|blessed-contrib)\//;

let dir: string;
let tree: BuiltTree;
let runs = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hotslot-startup-'));
  tree = buildHostTree(join(dir, 'host'), {
    functions: [
      { bdf: '0000:00:00.0', vendorId: 0x8086, deviceId: 0x29c0, classCode: 0x060000, pcie: null, iommuGroup: 0 },
      { bdf: '0000:00:02.0', vendorId: 0x8086, deviceId: 0x10d3, classCode: 0x020000, driver: 'e1000e', iommuGroup: 1, msix: { tableSize: 5, enabled: 3 } },
    ],
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI on the fixture host; the modules it loaded, and its exit status. */
async function modulesOf(...args: string[]): Promise<{ status: number | null; modules: string[] }> {
  const log = join(dir, `modules-${runs++}.log`);
  writeFileSync(log, '');
  const r = await hotslot(['--sysfs-root', tree.sysfsRoot, '--proc-root', tree.procRoot, ...args], {
    env: { NODE_OPTIONS: `--import=${RECORDER}`, HOTSLOT_MODULE_LOG: log },
  });
  expect(r.stderr).toBe('');
  return { status: r.status, modules: readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') };
}

describe('start-up of the reading commands', () => {
  it('list and check load neither zod, RxJS nor blessed', async () => {
    for (const args of [['list'], ['list', '--json', '--all'], ['check', '0000:00:02.0', '--json']]) {
      const { status, modules } = await modulesOf(...args);
      expect(status).toBe(0);
      // The log saw the scan itself, and commander (CommonJS, from the require cache).
      expect(modules.some((m) => m.endsWith('/dist/host/inventory.js'))).toBe(true);
      expect(modules.some((m) => m.includes('node_modules/commander/'))).toBe(true);
      expect(modules.filter((m) => HEAVY.test(m))).toEqual([]);
    }
  });

  it('loads zod for a config file, whose schema needs it', async () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ protect: ['0000:00:02.0'] }));
    const { status, modules } = await modulesOf('--config', config, 'list', '--json');
    expect(status).toBe(0);
    expect(modules.some((m) => m.includes('node_modules/zod/'))).toBe(true);
    // One copy: the ES build the rest of hotslot imports, not the CommonJS build beside it.
    expect(modules.filter((m) => /node_modules\/zod\/.*\.cjs$/.test(m))).toEqual([]);
  });
});
