import type { Owner } from '../core/device.js';
import type { HotslotEvent } from '../core/events.js';
import type { OperationKind, OperationOutcome } from '../core/operations.js';
import type { HotslotState } from '../core/state.js';

/**
 * What `hotslot watch` reports: the events an operator acts on, one per line. The JSON Lines
 * form is this object with `event` first and `time` (ISO 8601) second; the README documents it.
 */
export type WatchRecord =
  | { event: 'watch.started'; guests: string[]; returnOnExit: boolean; recording: string | null }
  | { event: 'watch.stopped'; reason: string }
  | { event: 'guest.connected'; guest: string; qemuVersion: string | null }
  /** Its QEMU could not be reached at start; it is tried again, and `guest.connected` follows once it is up. */
  | { event: 'guest.unreachable'; guest: string; reason: string }
  /** Its QEMU went away; `devices` are the host devices it held, `returning` whether they now go home. */
  | { event: 'guest.gone'; guest: string; reason: string; devices: string[]; returning: boolean }
  | { event: 'device.added'; bdf: string; driver: string | null; owner: Owner }
  | { event: 'device.removed'; bdf: string }
  | { event: 'device.owner'; bdf: string; from: Owner; to: Owner; driver: string | null }
  | { event: 'op.started'; opId: string; op: OperationKind; bdfs: string[]; guest?: string; fromGuest?: string }
  | { event: 'op.finished'; opId: string; op: OperationKind | null; bdfs: string[]; outcome: OperationOutcome; message: string };

const sameOwner = (a: Owner, b: Owner) => a.kind === b.kind && a.guest === b.guest && a.qdevId === b.qdevId;

/**
 * The records one event makes, given the state just before and just after it. Pure; ownership
 * changes are read from the states, so they are reported whoever made them (this session, another
 * hotslot, a guest's own QEMU).
 */
export function watchRecords(before: HotslotState, after: HotslotState, event: HotslotEvent, opts: { returnOnExit: boolean }): WatchRecord[] {
  const out: WatchRecord[] = [];
  switch (event.type) {
    case 'guest.connected':
      out.push({ event: 'guest.connected', guest: event.guest, qemuVersion: event.qemuVersion });
      break;
    case 'guest.disconnected': {
      const was = before.guests[event.guest];
      if (was?.connected) {
        const devices = was.devices.flatMap((d) => (d.hostBdf ? [d.hostBdf] : []));
        out.push({ event: 'guest.gone', guest: event.guest, reason: event.reason, devices, returning: opts.returnOnExit && devices.length > 0 });
      } else if (!was) out.push({ event: 'guest.unreachable', guest: event.guest, reason: event.reason });
      break;
    }
    case 'host.device.added':
      out.push({ event: 'device.added', bdf: event.device.bdf, driver: event.device.driver, owner: after.devices[event.device.bdf]?.owner ?? event.device.owner });
      break;
    case 'host.device.removed':
      out.push({ event: 'device.removed', bdf: event.bdf });
      break;
    case 'op.started':
      out.push({
        event: 'op.started',
        opId: event.opId,
        op: event.op,
        bdfs: event.bdfs,
        ...(event.guest !== undefined ? { guest: event.guest } : {}),
        ...(event.fromGuest !== undefined ? { fromGuest: event.fromGuest } : {}),
      });
      break;
    case 'op.finished': {
      const op = before.operations[event.opId];
      out.push({ event: 'op.finished', opId: event.opId, op: op?.op ?? null, bdfs: op?.bdfs ?? [], outcome: event.outcome, message: event.message });
      break;
    }
    default:
      break;
  }
  if (before.devices !== after.devices) {
    for (const [bdf, now] of Object.entries(after.devices)) {
      const then = before.devices[bdf];
      if (then && then !== now && !sameOwner(then.owner, now.owner)) out.push({ event: 'device.owner', bdf, from: then.owner, to: now.owner, driver: now.driver });
    }
  }
  return out;
}

const ownerText = (o: Owner): string => (o.kind === 'guest' ? `guest ${o.guest ?? '?'}${o.qdevId ? ` (${o.qdevId})` : ''}` : o.kind);

/** One line for a person reading a log. */
export function watchLine(r: WatchRecord): string {
  switch (r.event) {
    case 'watch.started':
      return `watching ${r.guests.join(', ')}; ${r.returnOnExit ? "a guest's devices return to the host when its QEMU exits" : 'devices stay on vfio-pci when their guest exits (--no-return-on-exit)'}; ${r.recording ? `recording to ${r.recording}` : 'not recording'}`;
    case 'watch.stopped':
      return `stopped (${r.reason})`;
    case 'guest.connected':
      return `guest ${r.guest} connected${r.qemuVersion ? ` (QEMU ${r.qemuVersion})` : ''}`;
    case 'guest.unreachable':
      return `guest ${r.guest} unreachable: ${r.reason}`;
    case 'guest.gone': {
      const held = r.devices.length === 0 ? 'it held no host device' : r.returning ? `returning ${r.devices.join(', ')} to the host` : `${r.devices.join(', ')} left on vfio-pci`;
      return `guest ${r.guest} gone (${r.reason}): ${held}`;
    }
    case 'device.added':
      return `${r.bdf} appeared (${r.driver ?? 'no driver'})`;
    case 'device.removed':
      return `${r.bdf} disappeared`;
    case 'device.owner':
      // A guest's device has no host driver to speak of (and the host may not have been re-read yet).
      return `${r.bdf} owner ${ownerText(r.from)} -> ${ownerText(r.to)}${r.to.kind === 'guest' ? '' : ` (${r.driver ?? 'no driver'})`}`;
    case 'op.started':
      return `${r.op}${r.bdfs.length ? ` ${r.bdfs.join(', ')}` : ''}${r.fromGuest ? ` from ${r.fromGuest}` : ''}${r.guest ? ` to ${r.guest}` : ''} started (${r.opId})`;
    case 'op.finished':
      return `${r.op ?? 'operation'}${r.bdfs.length ? ` ${r.bdfs.join(', ')}` : ''} ${r.outcome}: ${r.message} (${r.opId})`;
  }
}
