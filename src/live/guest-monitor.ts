import { Observable } from 'rxjs';
import type { Clock } from '../core/clock.js';
import type { HotslotEvent } from '../core/events.js';
import { readGuestPci } from '../guests/guest-pci.js';
import type { GuestSpec } from '../guests/guest-specs.js';
import { QmpClient, eventTimeMs } from '../qmp/index.js';
import { formatQemuVersion } from '../qmp/index.js';
import { recordedTraffic, type QmpNote } from './qmp-traffic.js';

type GuestEvent = Extract<HotslotEvent, { type: `guest.${string}` | 'qmp.event' }>;

/** Events after which a guest's PCI tree is read again. */
const REFRESH_ON = new Set(['DEVICE_DELETED', 'DEVICE_UNPLUG_GUEST_ERROR', 'STOP', 'RESUME', 'RESET']);

/**
 * Follows one guest for as long as it is subscribed: connects (and reconnects with backoff when
 * its QEMU comes back), reports its run state, QEMU events and PCI devices, and polls the PCI tree
 * so that hot-plugs made by others are seen too. `traffic$` is its QMP traffic for the session
 * recording (see recordedTraffic).
 */
export function monitorGuest(
  spec: GuestSpec,
  clock: Clock,
  opts: { pollMs?: number } = {},
): { events$: Observable<GuestEvent>; traffic$: Observable<QmpNote>; client: QmpClient } {
  const client = new QmpClient(spec.endpoint, {
    connectTimeoutMs: 3_000,
    commandTimeoutMs: 10_000,
    // A guest whose QEMU is not up yet is followed once it is.
    reconnect: { initialDelayMs: 500, maxDelayMs: 5_000, retryFirst: true },
  });
  const events$ = new Observable<GuestEvent>((subscriber) => {
    let stopped = false;
    let wasReady = false;
    let lastStatus: string | null = null;
    let lastDevices: string | null = null;
    const emit = (e: GuestEvent) => {
      if (!stopped) subscriber.next(e);
    };
    const refresh = async () => {
      try {
        const [status, pci] = [await client.execute<{ status: string }>('query-status'), await readGuestPci(client)];
        // Only changes are events: a poll that finds the same guest says nothing.
        if (status.status !== lastStatus) {
          lastStatus = status.status;
          emit({ type: 'guest.status', at: clock.now(), guest: spec.name, runState: status.status });
        }
        const devices = JSON.stringify([pci.devices, pci.freeSlots]);
        if (devices !== lastDevices) {
          lastDevices = devices;
          emit({ type: 'guest.devices', at: clock.now(), guest: spec.name, devices: pci.devices, freeSlots: pci.freeSlots });
        }
      } catch {
        // the state subscription reports a lost connection
      }
    };
    const stateSub = client.state$.subscribe((s) => {
      if (s.status === 'ready') {
        wasReady = true;
        lastStatus = null;
        lastDevices = null;
        emit({ type: 'guest.connected', at: clock.now(), guest: spec.name, qemuVersion: formatQemuVersion(s.greeting), runState: null });
        void refresh();
      } else if (s.status === 'closed' && wasReady) {
        wasReady = false;
        emit({ type: 'guest.disconnected', at: clock.now(), guest: spec.name, reason: s.reason });
      }
    });
    const eventSub = client.events$.subscribe((e) => {
      emit({ type: 'qmp.event', at: clock.now(), guest: spec.name, event: e.event, data: e.data, qemuTime: eventTimeMs(e) });
      if (e.event === 'SHUTDOWN') emit({ type: 'guest.status', at: clock.now(), guest: spec.name, runState: 'shutdown' });
      if (REFRESH_ON.has(e.event)) void refresh();
    });
    const poll = setInterval(() => {
      if (client.state.status === 'ready') void refresh();
    }, opts.pollMs ?? 2_000);
    client.connect().catch((err: unknown) => {
      emit({ type: 'guest.disconnected', at: clock.now(), guest: spec.name, reason: err instanceof Error ? err.message : String(err) });
    });
    return () => {
      stopped = true;
      clearInterval(poll);
      stateSub.unsubscribe();
      eventSub.unsubscribe();
      void client.close();
    };
  });
  return { events$, traffic$: recordedTraffic(spec.name, client.traffic$, clock), client };
}
