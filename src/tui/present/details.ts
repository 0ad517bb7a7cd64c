import type { Device } from '../../core/device.js';
import type { Operation } from '../../core/operations.js';
import type { GuestState, HotslotState } from '../../core/state.js';
import { cell, type Line, type Meaning } from './cells.js';
import { deviceName, ownerCell } from './devices.js';
import { guestStateText, heldDevices } from './guests.js';
import { currentStep, elapsedMs, formatMs, isActive, latestOperationByBdf, operationTitle } from './operations.js';

const groupCache = new WeakMap<object, Map<number, string[]>>();

/** BDFs of each IOMMU group, for the group members of the details. */
export function groupIndex(devices: HotslotState['devices']): Map<number, string[]> {
  const cached = groupCache.get(devices);
  if (cached) return cached;
  const out = new Map<number, string[]>();
  for (const d of Object.values(devices)) {
    if (d.iommuGroup === null) continue;
    const list = out.get(d.iommuGroup) ?? [];
    list.push(d.bdf);
    out.set(d.iommuGroup, list);
  }
  for (const list of out.values()) list.sort();
  groupCache.set(devices, out);
  return out;
}

const heading = (text: string, meaning: Meaning = 'accent'): Line => [cell(text, meaning)];
const item = (label: string, value: string, meaning: Meaning = 'normal'): Line => [cell(`  ${label} `, 'muted'), cell(value, meaning)];

function interruptsLine(d: Device): string {
  const i = d.interrupts;
  const parts: string[] = [i.mode === 'none' ? 'none in use' : `${i.mode} in use`];
  if (i.msix.capable) parts.push(`MSI-X ${i.msix.enabled ? 'on' : 'off'}${i.msix.tableSize !== null ? ` (table ${i.msix.tableSize})` : ''}`);
  if (i.msi.capable) parts.push(`MSI ${i.msi.enabled ? 'on' : 'off'}${i.msi.vectors !== null ? ` (${i.msi.vectors} of ${i.msi.maxVectors ?? '?'})` : ''}`);
  if (i.pin) parts.push(`pin ${i.pin}`);
  if (i.irq !== null) parts.push(`IRQ ${i.irq}`);
  return parts.join(', ');
}

function resetLine(d: Device): string {
  const r = d.reset;
  const methods = r.methods.length > 0 ? r.methods.join(' ') : 'none';
  const facts = [`FLR ${r.flr ? 'yes' : 'no'}`, `AF FLR ${r.afFlr ? 'yes' : 'no'}`];
  if (r.pmNoSoftReset !== null) facts.push(`PM NoSoftRst ${r.pmNoSoftReset ? 'yes' : 'no'}`);
  facts.push(`bus reset ${r.busResetPossible ? 'possible' : 'not possible'}`);
  return `${methods} (${facts.join(', ')})`;
}

const STEP_MEANING: Record<string, Meaning> = { ok: 'ok', running: 'pending', failed: 'error', undone: 'warn', skipped: 'muted' };

/** An operation and its steps with their times, for the details pane. */
export function operationLines(op: Operation, now: number): Line[] {
  const running = isActive(op);
  const outcome = running ? `running ${formatMs(elapsedMs(op, now))}` : `${op.outcome ?? ''} in ${formatMs(elapsedMs(op, now))}`;
  const meaning: Meaning = running ? 'pending' : op.outcome === 'done' ? 'ok' : op.outcome === 'refused' ? 'warn' : 'error';
  const lines: Line[] = [[cell('Operation ', 'accent'), cell(operationTitle(op) + ' '), cell(outcome, meaning)]];
  const here = running ? currentStep(op) : null;
  for (const s of op.steps) {
    const ms = s.ms !== null ? formatMs(s.ms) : formatMs(Math.max(0, now - s.startedAt));
    lines.push([
      cell(`  ${s === here ? '>' : ' '} `, 'pending'),
      cell(s.status.padEnd(8), STEP_MEANING[s.status] ?? 'normal'),
      cell(`${s.step}${s.bdf && op.bdfs.length > 1 ? ` ${s.bdf}` : ''}`.padEnd(20)),
      cell(ms.padStart(8), 'muted'),
      ...(s.detail ? [cell(`  ${s.detail}`, 'muted')] : []),
    ]);
  }
  if (op.message) lines.push([cell('  '), cell(op.message, meaning)]);
  return lines;
}

/** Everything `check` says about a device, as lines. */
export function deviceDetails(d: Device, state: HotslotState): Line[] {
  const lines: Line[] = [];
  lines.push([cell(d.bdf, 'accent'), cell('  '), cell(deviceName(d))]);
  if (d.vendorName) lines.push(item('vendor', d.vendorName));
  lines.push(item('ids', `${d.vendorId.replace(/^0x/, '')}:${d.deviceId.replace(/^0x/, '')}  class ${d.classCode}  ${d.pcieType ?? d.headerType ?? ''}`));
  lines.push([...item('driver', d.driver ?? '(none)', d.driver ? 'normal' : 'muted'), cell('  owner ', 'muted'), ownerCell(d)]);

  const op = latestOperationByBdf(state.operations).get(d.bdf);
  if (op?.outcome === 'stuck') {
    lines.push(heading(`STUCK: ${op.message ?? 'the guest did not let go'}`, 'error'));
    lines.push(heading('  t: retry   X: force it back to the host', 'error'));
  }

  lines.push(heading(d.assignable.ok ? 'Assignable: yes' : 'Assignable: no', d.assignable.ok ? 'ok' : 'error'));
  for (const r of d.assignable.reasons) lines.push([cell('  - ', 'muted'), cell(r.message, d.assignable.ok ? 'warn' : 'error'), cell(` (${r.code})`, 'muted')]);

  if (d.iommuGroup === null) lines.push(heading('IOMMU group: none', 'warn'));
  else {
    lines.push(heading(`IOMMU group ${d.iommuGroup}`));
    for (const bdf of groupIndex(state.devices).get(d.iommuGroup) ?? []) {
      const m = state.devices[bdf];
      if (!m) continue;
      lines.push([
        cell(`  ${bdf}  `),
        cell((m.driver ?? '(none)').padEnd(10), m.driver === 'vfio-pci' ? 'accent' : m.driver ? 'normal' : 'muted'),
        cell(bdf === d.bdf ? ' (this device)' : ` ${m.headerType === 'bridge' ? 'bridge' : deviceName(m)}`, 'muted'),
      ]);
    }
  }

  lines.push(heading('Interrupts'));
  lines.push([cell('  ' + interruptsLine(d))]);
  lines.push(heading('Reset'));
  lines.push([cell('  ' + resetLine(d), d.reset.methods.length === 0 && d.headerType === 'endpoint' ? 'warn' : 'normal')]);
  if (d.sriov) lines.push(item('SR-IOV', `${d.sriov.numVFs} of ${d.sriov.totalVFs} VFs enabled`));
  if (d.acs) {
    const on = Object.entries(d.acs.flags)
      .filter(([, v]) => v)
      .map(([k]) => k);
    lines.push(item('ACS', on.length > 0 ? on.join(' ') : 'capable, no controls'));
  }
  if (d.capabilities.length > 0) {
    lines.push(heading('Capabilities'));
    for (const c of d.capabilities) lines.push([cell(`  0x${c.offset.toString(16).padStart(3, '0')} `, 'muted'), cell(c.name), cell(c.extended ? ' (extended)' : '', 'muted')]);
  }
  if (op) lines.push(...operationLines(op, state.now));
  return lines;
}

/** A guest's state, devices and free slots, for the details pane. */
export function guestDetails(g: GuestState, state: HotslotState): Line[] {
  const lines: Line[] = [[cell(g.name, 'accent'), cell('  '), cell(guestStateText(g), g.connected ? 'normal' : 'muted')]];
  lines.push(item('QEMU', g.qemuVersion ?? 'unknown'));
  if (g.lastEvent) lines.push(item('last event', g.lastEvent));
  const held = heldDevices(g);
  lines.push(heading(`Host devices: ${held.length}`));
  for (const d of g.devices) {
    if (!d.hostBdf) continue;
    const host = state.devices[d.hostBdf];
    lines.push([cell(`  ${d.hostBdf}  `), cell((d.qdevId ?? '(no id)').padEnd(12), 'muted'), cell(host ? deviceName(host) : '')]);
  }
  const emulated = g.devices.length - held.length;
  lines.push(item('emulated devices', String(emulated)));
  lines.push(heading(`Free hotplug slots: ${g.freeSlots.length}`, g.freeSlots.length > 0 ? 'accent' : 'warn'));
  if (g.freeSlots.length > 0) lines.push([cell('  ' + g.freeSlots.join(' '))]);
  return lines;
}
