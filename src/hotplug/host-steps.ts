import type { KernelPort, ResetMethod } from '../kernel/index.js';
import { KernelError } from '../kernel/index.js';
import type { DeviceOrigin } from './journal.js';
import type { OperationRun } from './operation-run.js';

/** Waits for driver links: binding vfio-pci takes up to ~3 s on slow hosts (LAB.md). */
export interface HostStepTimeouts {
  driverMs: number;
}

/** What the device was before hotslot touched it, read from the kernel. */
export async function readOrigin(kernel: KernelPort, bdf: string): Promise<DeviceOrigin> {
  return { bdf, driver: await kernel.currentDriver(bdf), driverOverride: await kernel.driverOverride(bdf) };
}

/**
 * Puts a device back as it was found: its original driver (or none), its original
 * driver_override. Idempotent, so it serves as the undo of every host-side step.
 */
export async function restoreHost(kernel: KernelPort, origin: DeviceOrigin, t: HostStepTimeouts): Promise<string> {
  // Twice: a bind still in flight from an interrupted operation (an asynchronous probe) may land
  // between our probe and our wait; the second round puts it right.
  for (let attempt = 1; ; attempt++) {
    try {
      return await restoreOnce(kernel, origin, t);
    } catch (err) {
      if (attempt >= 2 || !(err instanceof KernelError)) throw err;
    }
  }
}

async function restoreOnce(kernel: KernelPort, origin: DeviceOrigin, t: HostStepTimeouts): Promise<string> {
  const current = await kernel.currentDriver(origin.bdf);
  const override = await kernel.driverOverride(origin.bdf);
  if (origin.unknown) {
    if (current === 'vfio-pci') await kernel.unbind(origin.bdf);
    if (override !== null) await kernel.clearDriverOverride(origin.bdf);
    if (current === null || current === 'vfio-pci') await kernel.driversProbe(origin.bdf);
    return `on ${(await kernel.currentDriver(origin.bdf)) ?? 'no driver (none claims it)'}`;
  }
  if (current === origin.driver && override === origin.driverOverride) return `already on ${current ?? 'no driver'}`;
  if (current !== null && current !== origin.driver) await kernel.unbind(origin.bdf);
  if (override !== origin.driverOverride) {
    if (origin.driverOverride === null) await kernel.clearDriverOverride(origin.bdf);
    else await kernel.setDriverOverride(origin.bdf, origin.driverOverride);
  }
  if (origin.driver !== null && (await kernel.currentDriver(origin.bdf)) !== origin.driver) {
    await kernel.driversProbe(origin.bdf);
    await kernel.waitForDriver(origin.bdf, origin.driver, { timeoutMs: t.driverMs });
  }
  return `on ${origin.driver ?? 'no driver'}`;
}

export async function unbindStep(run: OperationRun, kernel: KernelPort, origin: DeviceOrigin, t: HostStepTimeouts): Promise<void> {
  if (origin.driver === null || origin.driver === 'vfio-pci') return;
  await run.step(
    'unbind',
    origin.bdf,
    async () => {
      const r = await kernel.unbind(origin.bdf);
      return r.from ? `from ${r.from}` : 'was unbound';
    },
    async () => {
      await restoreHost(kernel, origin, t);
    },
  );
}

/**
 * Resets the function, trying the kernel's methods in its own order one by one, so that the
 * method that worked is known and recorded (the kernel's `reset` alone does not say).
 */
export async function resetStep(run: OperationRun, kernel: KernelPort, bdf: string): Promise<string | undefined> {
  return run.step('reset', bdf, async () => {
    const methods = await kernel.resetMethods(bdf);
    if (methods === null || methods.length === 0) {
      throw new Error('the function has no reset method (no reset_method file); use --no-reset to hand it over unreset');
    }
    const failures: string[] = [];
    for (const m of methods) {
      try {
        await kernel.reset(bdf, m as ResetMethod);
        return m;
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        failures.push(`${m}: ${err.code}`);
      }
    }
    throw new Error(`every reset method failed (${failures.join(', ')})`);
  });
}

export async function bindVfioStep(run: OperationRun, kernel: KernelPort, origin: DeviceOrigin, t: HostStepTimeouts, undoToHost: boolean): Promise<void> {
  if ((await kernel.currentDriver(origin.bdf)) === 'vfio-pci') return;
  await run.step(
    'bind vfio-pci',
    origin.bdf,
    async () => {
      await kernel.setDriverOverride(origin.bdf, 'vfio-pci');
      await kernel.driversProbe(origin.bdf);
      await kernel.waitForDriver(origin.bdf, 'vfio-pci', { timeoutMs: t.driverMs });
      return 'driver_override=vfio-pci';
    },
    undoToHost
      ? async () => {
          await restoreHost(kernel, origin, t);
        }
      : undefined,
  );
}

export async function returnHostStep(run: OperationRun, kernel: KernelPort, origin: DeviceOrigin, t: HostStepTimeouts): Promise<void> {
  await run.step('bind host driver', origin.bdf, () => restoreHost(kernel, origin, t));
}
