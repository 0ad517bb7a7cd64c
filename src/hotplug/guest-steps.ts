import { guestDevice, guestQdevIds } from '../guests/guest-pci.js';
import { ConnectionClosedError, eventMatching, ExecuteError } from '../qmp/index.js';
import { errorText, StuckError } from './errors.js';
import type { OperationRun } from './operation-run.js';
import type { QmpSender } from './qmp-sender.js';

export interface GuestStepTimeouts {
  /** How long a guest has to release a device after `device_del`. */
  unplugMs: number;
  /** QEMU refuses a second `device_del` while the first is pending; after its window, one re-send. */
  resendAfterMs: number;
  pollMs: number;
  /** How long a guest has to answer query-pci or qom-get. */
  queryMs: number;
  /** How long device_add may take: QEMU opens the VFIO device and maps the guest's memory first. */
  deviceAddMs: number;
}

export interface HotplugTarget {
  name: string;
  qmp: QmpSender;
}

/** The qdev id hotslot gives a host device in a guest: stable, readable, and a valid QOM name. */
export const qdevIdFor = (bdf: string) => `hs-${bdf.replace(/[:.]/g, '-')}`;

/** Resolves after `ms`, or at once when `signal` aborts (so no timer outlives the wait). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

async function hasDevice(guest: HotplugTarget, qdevId: string, timeoutMs: number): Promise<boolean> {
  return (await guestQdevIds(guest.qmp, timeoutMs)).has(qdevId);
}

/**
 * `device_del`, then wait until the guest has really let go: `DEVICE_DELETED`, or the device gone
 * from `query-pci` (x86 PCIe guests that refuse an unplug send no event at all). One re-send after
 * QEMU's pending window; past the timeout the device is stuck with the guest.
 */
export async function unplug(guest: HotplugTarget, qdevId: string, bdf: string, t: GuestStepTimeouts, dryRun: boolean): Promise<string> {
  const started = performance.now();
  // Stopped however this ends, so a wait that polling made moot keeps no timer or subscription.
  const stopWaiting = new AbortController();
  const deleted = guest.qmp.waitForEvent(eventMatching('DEVICE_DELETED', { device: qdevId }), {
    timeoutMs: t.unplugMs,
    description: `DEVICE_DELETED for ${qdevId}`,
    signal: stopWaiting.signal,
  });
  try {
    let eventSeen = false;
    deleted.then(
      () => (eventSeen = true),
      () => undefined,
    );
    await guest.qmp.execute('device_del', { id: qdevId });
    if (dryRun) return 'dry run';
    let resent = false;
    // device_del was accepted: from here the guest may let go at any moment, so nothing can be
    // undone; a lost connection leaves the device's place unknown (stuck) for `recover` to settle.
    // A guest that lets go says so (DEVICE_DELETED) within milliseconds: give it one poll interval
    // before asking query-pci.
    await Promise.race([deleted.catch(() => undefined), sleep(Math.min(t.pollMs, t.unplugMs), stopWaiting.signal)]);
    while (performance.now() - started < t.unplugMs) {
      if (eventSeen) return 'DEVICE_DELETED';
      let present: boolean | null = null;
      try {
        present = await hasDevice(guest, qdevId, t.queryMs);
      } catch (err) {
        if (err instanceof ConnectionClosedError) {
          throw new StuckError(bdf, `lost guest ${guest.name} while it was releasing ${bdf} (${errorText(err)}); run \`hotslot recover\` to settle where it is`);
        }
        // A failed poll proves nothing either way; the event or the next poll decides.
      }
      if (present === false) return 'gone from query-pci';
      if (!resent && performance.now() - started >= t.resendAfterMs) {
        resent = true;
        try {
          await guest.qmp.execute('device_del', { id: qdevId });
        } catch (err) {
          // "is already in the process of unplug" is the expected answer while the first request is pending.
          if (!(err instanceof ExecuteError)) throw err;
        }
      }
      await Promise.race([deleted.catch(() => undefined), sleep(t.pollMs, stopWaiting.signal)]);
    }
    if (eventSeen) return 'DEVICE_DELETED';
    throw new StuckError(
      bdf,
      `guest ${guest.name} did not release ${bdf} (${qdevId}) within ${Math.round(t.unplugMs / 1000)} s of device_del; ` +
        `it stays with the guest. Check that the guest OS handles PCI hotplug (ACPI or pciehp), then run \`hotslot detach ${bdf}\` again, ` +
        `or shut the guest down: hotslot returns its devices to the host when QEMU exits`,
    );
  } finally {
    stopWaiting.abort();
  }
}

export async function deviceAddStep(
  run: OperationRun,
  guest: HotplugTarget,
  bdf: string,
  bus: string,
  t: GuestStepTimeouts,
  dryRun: boolean,
): Promise<string> {
  const id = qdevIdFor(bdf);
  await run.step(
    'device_add',
    bdf,
    async () => {
      await guest.qmp.execute('device_add', { driver: 'vfio-pci', host: bdf, id, bus }, { timeoutMs: t.deviceAddMs });
      return `${id} on ${bus} in ${guest.name}`;
    },
    async () => {
      await unplug(guest, id, bdf, t, dryRun);
    },
  );
  if (!dryRun) {
    await run.step('confirm in guest', bdf, async () => {
      const d = await guestDevice(guest.qmp, id, t.queryMs);
      if (!d) throw new Error(`guest ${guest.name} accepted device_add but query-pci does not show ${id}`);
      if (d.hostBdf !== bdf) throw new Error(`guest ${guest.name} shows ${id} holding ${d.hostBdf ?? 'no host device'}, not ${bdf}`);
      return `bus ${d.bus} slot ${d.slot}`;
    });
  }
  return id;
}

export async function deviceDelStep(run: OperationRun, guest: HotplugTarget, qdevId: string, bdf: string, t: GuestStepTimeouts, dryRun: boolean): Promise<void> {
  const t0 = performance.now();
  try {
    await run.step('device_del', bdf, () => unplug(guest, qdevId, bdf, t, dryRun));
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof StuckError) throw cause;
    throw new Error(`${errorText(err)} (after ${Math.round(performance.now() - t0)} ms)`);
  }
}
