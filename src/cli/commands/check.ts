import type { Command } from 'commander';
import type { HostDevice } from '../../host/host-device.js';
import { scanHost, type HostInventory } from '../../host/inventory.js';
import { globalOptions, printJson } from '../context.js';
import { heldByGuests } from '../held-by-guests.js';
import { usageError } from '../exit-codes.js';
import { bdfArg } from '../args.js';
import { hostSources } from './list.js';

interface CheckOptions {
  json?: boolean;
}

/** A member of the device's IOMMU group, as `check --json` adds it. */
export interface GroupMember {
  bdf: string;
  vendorId: string;
  deviceId: string;
  deviceName: string | null;
  headerType: HostDevice['headerType'];
  driver: string | null;
  owner: HostDevice['owner'];
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('explain whether one device can be given to a guest, and why not')
    .argument('<bdf>', 'PCI address, DDDD:BB:DD.F (or BB:DD.F in domain 0000)')
    .option('--json', 'print the device record, plus `groupMembers`: the other functions of its IOMMU group')
    .addHelpText(
      'after',
      `
Exit status 0 whether or not the device is assignable (see assignable.ok in --json);
2 for an address that is not one, or a device that is not there.`,
    )
    .action(async (input: string, opts: CheckOptions, cmd: Command) => {
      const bdf = bdfArg(input);
      const g = globalOptions(cmd);
      const sources = hostSources(g);
      const inventory = scanHost({ ...sources, guestHolders: await heldByGuests(g) });
      const device = inventory.byBdf.get(bdf);
      if (!device) throw usageError(`no PCI device ${bdf} under ${g.sysfsRoot}`);
      const members = groupMembers(device, inventory);
      if (opts.json) printJson({ ...device, groupMembers: members });
      else process.stdout.write(explain(device, members, inventory, sources.names?.className?.(parseInt(device.classCode, 16)) ?? null));
    });
}

function groupMembers(d: HostDevice, inventory: HostInventory): GroupMember[] {
  if (d.iommuGroup === null) return [];
  return (inventory.groups.get(d.iommuGroup) ?? [])
    .filter((b) => b !== d.bdf)
    .map((b) => inventory.byBdf.get(b))
    .filter((m): m is HostDevice => m !== undefined)
    .map((m) => ({
      bdf: m.bdf,
      vendorId: m.vendorId,
      deviceId: m.deviceId,
      deviceName: m.deviceName,
      headerType: m.headerType,
      driver: m.driver,
      owner: m.owner,
    }));
}

const WIDTH = 100;

/** Splits at spaces into lines of at most `width` (a longer word stands alone). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (cur && cur.length + 1 + word.length > width) {
      lines.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  lines.push(cur);
  return lines;
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

function size(bytes: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && n % 1024 === 0 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${n}${units[u]}`;
}

function owner(d: HostDevice): string {
  switch (d.owner.kind) {
    case 'guest':
      return `guest ${d.owner.guest ?? '?'}${d.owner.qdevId ? ` (${d.owner.qdevId})` : ''}`;
    case 'vfio':
      return 'vfio-pci, free for a guest';
    case 'host':
      return 'the host';
    case 'none':
      return 'nobody (no driver)';
  }
}

export function explain(d: HostDevice, members: readonly GroupMember[], inventory: HostInventory, className: string | null): string {
  const out: string[] = [];
  const line = (label: string, text: string) => out.push(...wrap(text, WIDTH - 15).map((l, n) => `  ${(n === 0 ? label : '').padEnd(13)}${l}`));
  const name = [d.vendorName, d.deviceName].filter((s) => s !== null).join(' ') || 'unknown device';
  out.push(`${d.bdf}  ${name} [${d.vendorId.slice(2)}:${d.deviceId.slice(2)}]`);
  const kind = d.pcieType ? `PCIe ${d.pcieType}` : 'conventional PCI';
  line('class', `${className ?? 'unknown class'} [${d.classCode.slice(2)}], ${d.headerType ?? 'unknown'} header, ${kind}`);
  line('driver', `${d.driver ?? 'none'}${d.driverOverride ? ` (driver_override ${d.driverOverride})` : ''}; owner: ${owner(d)}`);
  if (!inventory.iommu) line('IOMMU', 'none on this host');
  else if (d.iommuGroup === null) line('IOMMU group', 'none');
  else {
    const others = members.map((m) => `${m.bdf} ${m.headerType === 'bridge' ? 'bridge' : (m.deviceName ?? m.deviceId)} (${m.driver ?? 'no driver'})`);
    line('IOMMU group', `${d.iommuGroup}${others.length ? `, with ${others.join(', ')}` : ', alone'}`);
  }
  line('bridges', d.parents.length ? `${d.parents.join(' < ')} < root bus` : 'none (on a root bus)');
  if (d.physfn) line('SR-IOV', `virtual function of ${d.physfn}`);
  else if (d.sriov) line('SR-IOV', `${d.sriov.numVFs} of ${d.sriov.totalVFs} VFs enabled${d.virtfns.length ? `: ${d.virtfns.join(', ')}` : ''}`);
  const i = d.interrupts;
  const msi = i.msi.capable ? `MSI ${i.msi.enabled ? `on, ${i.msi.vectors ?? '?'} vectors` : 'off'} (up to ${i.msi.maxVectors ?? '?'})` : 'no MSI';
  const msix = i.msix.capable ? `MSI-X ${i.msix.enabled ? 'on' : 'off'} (table ${i.msix.tableSize ?? '?'})` : 'no MSI-X';
  const pin = i.pin ? `pin ${i.pin}${i.irq !== null ? `, IRQ ${i.irq}` : ''}` : 'no pin';
  line('interrupts', `${i.mode} now; ${pin}; ${msi}; ${msix}`);
  const r = d.reset;
  const methods = r.methods.length ? r.methods.join(' ') : 'none';
  line(
    'reset',
    `${methods}${d.resetFile ? '' : ' (no reset file)'}; FLR ${yesNo(r.flr)}, AF FLR ${yesNo(r.afFlr)}, PM NoSoftRst ${r.pmNoSoftReset === null ? 'n/a' : yesNo(r.pmNoSoftReset)}, bus reset ${r.busResetPossible ? 'possible' : 'not possible'}`,
  );
  const bars = d.bars.filter((b) => b.kind === 'bar' || b.kind === 'rom');
  if (bars.length) {
    line('BARs', bars.map((b) => `${b.kind === 'rom' ? 'ROM' : b.index}: ${b.space} ${size(b.size)} at ${b.start}`).join('; '));
  }
  if (d.numaNode !== null && d.numaNode >= 0) line('NUMA node', String(d.numaNode));
  if (d.acs) {
    const on = Object.entries(d.acs.flags)
      .filter(([, v]) => v)
      .map(([k]) => k);
    line('ACS', on.length ? on.join(', ') : 'capability present, no controls');
  }
  if (d.capabilities.length) {
    line('capabilities', d.capabilities.map((c) => `[${c.offset.toString(16)}] ${c.name}`).join(', '));
  }
  if (d.protected.length) line('protected', d.protected.map((p) => p.message).join('; '));
  out.push('');
  out.push(d.assignable.ok ? `assignable: yes${d.assignable.reasons.length ? ', with warnings' : ''}` : 'assignable: no');
  for (const reason of d.assignable.reasons) {
    const mark = reason.severity === 'blocker' ? '✗' : '!';
    out.push(...wrap(`${reason.code}: ${reason.message}`, WIDTH - 4).map((l, n) => `  ${n === 0 ? mark : ' '} ${l}`));
  }
  return out.join('\n') + '\n';
}
