/**
 * `openKernel`: the port the hotplug layer writes through, for the real kernel (`/sys`), the
 * simulated kernel on a fixture tree (`--kernel sim`), or a dry run that only records writes.
 */
import type { DryRunKernelPort, KernelPort } from './kernel-port.js';
import { openDryRunKernel, openRealKernel } from './real-kernel.js';
import { SimulatedKernel, type SimOptions } from './simulated-kernel.js';

export type KernelKind = 'real' | 'sim' | 'dry-run';

export interface OpenKernelOptions extends SimOptions {
  kind: KernelKind;
  sysfsRoot: string;
}

export function openKernel(opts: OpenKernelOptions & { kind: 'dry-run' }): DryRunKernelPort;
export function openKernel(opts: OpenKernelOptions): KernelPort;
export function openKernel(opts: OpenKernelOptions): KernelPort {
  const { kind, sysfsRoot, ...rest } = opts;
  switch (kind) {
    case 'real':
      return openRealKernel(sysfsRoot, rest);
    case 'sim':
      return SimulatedKernel.open(sysfsRoot, rest).port;
    case 'dry-run':
      return openDryRunKernel(sysfsRoot, rest);
  }
}

export * from './kernel-port.js';
export { errnoMeaning } from './kernel-errors.js';
export { canonicalBdf, checkDriverName } from './sysfs-paths.js';
export { openDryRunKernel, openRealKernel } from './real-kernel.js';
export { withWriteBarrier } from './write-barrier.js';
export { SimulatedKernel, type FaultSpec, type FaultHook, type SimOptions } from './simulated-kernel.js';
export type { SimState } from './sim-state.js';
export type { PortOptions } from './sysfs-kernel-port.js';
