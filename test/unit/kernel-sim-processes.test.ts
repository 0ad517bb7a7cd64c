/**
 * `--kernel sim` across commands: two separate node processes on one tree, through the built
 * kernel module (dist/, built by the test setup), see each other's effects.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { extractLabSnapshot, type LabSnapshot } from '../support/lab-snapshot.js';

const run = promisify(execFile);
const kernelModule = fileURLToPath(new URL('../../dist/kernel/index.js', import.meta.url));

/** One "command": a fresh process that opens the simulated kernel and runs `body` on its port. */
async function command(sysfsRoot: string, body: string): Promise<string> {
  const script = `const { openKernel } = await import(${JSON.stringify(kernelModule)});
const port = openKernel({ kind: 'sim', sysfsRoot: ${JSON.stringify(sysfsRoot)} });
${body}`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return stdout.trim();
}

let snap: LabSnapshot;
beforeEach(async () => {
  snap = await extractLabSnapshot('boot');
});
afterEach(() => snap.remove());

it('a second process sees the first one’s bind and VFs, and sends the device home to its own driver', async () => {
  const bdf = '0000:02:00.0';
  await command(
    snap.sysfsRoot,
    `await port.unbind('${bdf}'); await port.setDriverOverride('${bdf}', 'vfio-pci'); await port.driversProbe('${bdf}');
await port.setNumVfs('0000:01:00.0', 2);`,
  );
  const seen = await command(
    snap.sysfsRoot,
    `console.log(JSON.stringify([await port.currentDriver('${bdf}'), await port.sriov('0000:01:00.0')]));
await port.clearDriverOverride('${bdf}'); await port.unbind('${bdf}'); await port.driversProbe('${bdf}');
console.log(await port.currentDriver('${bdf}'));`,
  );
  expect(seen.split('\n')).toEqual([JSON.stringify(['vfio-pci', { numVfs: 2, totalVfs: 7 }]), 'e1000e']);
});
