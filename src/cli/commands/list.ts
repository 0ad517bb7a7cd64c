import type { Command } from 'commander';
import type { HostDevice } from '../../host/host-device.js';
import type { ProtectionKind } from '../../host/protected-devices.js';
import { scanHost, type HostInventory, type HostSources } from '../../host/inventory.js';
import { loadPciIds } from '../../pci/pci-ids.js';
import { globalOptions, printJson, type GlobalOptions } from '../context.js';
import { heldByGuests } from '../held-by-guests.js';
import { configOf } from '../config-file.js';

interface ListOptions {
  json?: boolean;
  all?: boolean;
}

export function registerList(program: Command): void {
  program
    .command('list')
    .description('every PCI function of the host: owner, IOMMU group, interrupt mode, and whether it can be assigned')
    .option('--json', 'print an array of device records (DESIGN.md section 4)')
    .option('--all', 'include bridges and host bridges (hidden by default: they can never be assigned)')
    .addHelpText(
      'after',
      `
Columns: BDF, vendor:device, name, driver, owner (host, vfio, guest, none), IOMMU group,
interrupt mode (msix, msi, intx, none), A (✓ assignable, ✗ not), and why: the first blocker,
or the warnings of an assignable device. \`hotslot check BDF\` explains one device in full.
Without --all only endpoints are listed, in the table and in --json alike.`,
    )
    .action(async (opts: ListOptions, cmd: Command) => {
      const g = globalOptions(cmd);
      const inventory = scanHost({ ...hostSources(g), guestHolders: await heldByGuests(g) });
      const shown = opts.all ? inventory.devices : inventory.devices.filter(isListedByDefault);
      if (opts.json) printJson(shown);
      else process.stdout.write(renderTable(shown, inventory, inventory.devices.length - shown.length));
    });
}

/** Sources from the global options; a bad config file is a usage error naming the file and field. */
export function hostSources(g: GlobalOptions): HostSources {
  const config = configOf(g);
  return {
    sysfsRoot: g.sysfsRoot,
    procRoot: g.procRoot,
    names: loadPciIds(g.pciIds),
    protect: config.protect,
    allow: config.allow,
    reservations: config.reservations,
    ...(config.file !== null ? { configFile: config.file } : {}),
  };
}

/** Endpoints other than host bridges: the devices an operator could ever hand to a guest. */
export function isListedByDefault(d: HostDevice): boolean {
  return d.headerType === 'endpoint' && !d.protected.some((p) => p.kind === 'host-bridge');
}

const WIDTH = 100;

function fit(s: string, width: number): string {
  if (s.length <= width) return s.padEnd(width);
  return s.slice(0, Math.max(0, width - 1)) + '…';
}

/** The short name of a row: the device name, else the class. */
function shortName(d: HostDevice): string {
  return d.deviceName ?? `class ${d.classCode}`;
}

const SHORT_PROTECTION: Record<ProtectionKind, string> = {
  'host-bridge': 'host bridge',
  'boot-vga': 'boot VGA',
  'root-filesystem': 'root fs',
  'mounted-filesystem': 'mounted fs',
  swap: 'swap',
  'default-route': 'default route',
  config: 'config',
};

function why(d: HostDevice): string {
  // A missing IOMMU is said once, under the table; the row names what is particular to the device.
  const all = d.assignable.reasons.filter((r) => r.severity === 'blocker');
  const particular = all.filter((r) => r.code !== 'no-iommu');
  const blockers = particular.length > 0 ? particular : all;
  if (blockers.length > 0) {
    const first = blockers[0];
    if (first.code === 'protected') {
      const p = d.protected[0];
      return p ? `protected: ${SHORT_PROTECTION[p.kind]}` : 'protected';
    }
    return blockers.length > 1 ? `${first.code} +${blockers.length - 1}` : first.code;
  }
  return [...new Set(d.assignable.reasons.map((r) => r.code))].join(', ');
}

export function renderTable(devices: readonly HostDevice[], inventory: HostInventory, hidden: number): string {
  const cols: [string, number][] = [
    ['BDF', 12],
    ['ID', 9],
    ['NAME', 22],
    ['DRIVER', 10],
    ['OWNER', 5],
    ['GRP', 3],
    ['INT', 4],
    ['A', 1],
  ];
  const used = cols.reduce((n, [, w]) => n + w + 1, 0);
  const whyWidth = WIDTH - used;
  const row = (cells: string[]) =>
    cols
      .map(([, w], i) => (i === 5 ? cells[i].padStart(w) : fit(cells[i], w)))
      .concat(fit(cells[cols.length], whyWidth))
      .join(' ')
      .trimEnd();
  const lines = [row([...cols.map(([h]) => h), 'WHY'])];
  for (const d of devices) {
    lines.push(
      row([
        d.bdf,
        `${d.vendorId.slice(2)}:${d.deviceId.slice(2)}`,
        shortName(d),
        d.driver ?? '-',
        d.owner.kind === 'guest' ? (d.owner.guest ?? 'guest') : d.owner.kind,
        d.iommuGroup === null ? '-' : String(d.iommuGroup),
        d.interrupts.mode,
        d.assignable.ok ? '✓' : '✗',
        why(d),
      ]),
    );
  }
  const ok = devices.filter((d) => d.assignable.ok).length;
  const summary = [`${devices.length} device${devices.length === 1 ? '' : 's'}, ${ok} assignable`];
  if (hidden > 0) summary.push(`${hidden} bridge${hidden === 1 ? '' : 's'} hidden (--all shows them)`);
  summary.push(inventory.iommu ? 'IOMMU on' : 'no IOMMU: nothing can be assigned');
  lines.push(summary.join('; '));
  return lines.join('\n') + '\n';
}
