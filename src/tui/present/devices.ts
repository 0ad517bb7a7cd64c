import type { Device } from '../../core/device.js';
import type { Operation } from '../../core/operations.js';
import type { Symbols } from '../theme.js';
import { cell, type Cell } from './cells.js';
import { formatMs, elapsedMs, isActive, isStuck, operationProgress, spinnerFrame } from './operations.js';

export type DeviceColumnId = 'bdf' | 'vendor' | 'name' | 'driver' | 'owner' | 'group' | 'irq' | 'reset' | 'mark' | 'status';

export interface Column<Id extends string = DeviceColumnId> {
  id: Id;
  header: string;
  width: number;
  align: 'left' | 'right';
}

/** Wide enough for the vendor column. */
export const VENDOR_TABLE = 100;
/** Wide enough for the operation column; narrower tables show an operation in the name column. */
export const WIDE_TABLE = 130;

/**
 * Column widths for a table `width` columns wide; the name column takes what is left.
 * Order and widths are fixed so that the eye finds a column in the same place after a resize.
 */
export function deviceColumns(width: number): Column[] {
  const wide = width >= WIDE_TABLE;
  const fixed: Column[] = [
    { id: 'bdf', header: 'BDF', width: 12, align: 'left' },
    ...(width >= VENDOR_TABLE ? [{ id: 'vendor', header: 'VENDOR', width: 18, align: 'left' } as Column] : []),
    { id: 'name', header: 'NAME', width: 0, align: 'left' },
    { id: 'driver', header: 'DRIVER', width: 9, align: 'left' },
    { id: 'owner', header: 'OWNER', width: 10, align: 'left' },
    { id: 'group', header: 'GRP', width: 3, align: 'right' },
    { id: 'irq', header: 'IRQ', width: 4, align: 'left' },
    { id: 'reset', header: 'RESET', width: 5, align: 'left' },
    { id: 'mark', header: 'A', width: 1, align: 'left' },
    ...(wide ? [{ id: 'status', header: 'OPERATION', width: 30, align: 'left' } as Column] : []),
  ];
  const used = fixed.reduce((n, c) => n + c.width, 0) + (fixed.length - 1);
  return fixed.map((c) => (c.id === 'name' ? { ...c, width: Math.max(4, width - used) } : c));
}

export interface RowContext {
  /** The newest operation on this device, if any. */
  op: Operation | undefined;
  now: number;
  symbols: Symbols;
  /** Whether the table has an operation column; if not, the name cell shows the operation. */
  wide: boolean;
}

export function deviceName(d: Device): string {
  if (d.deviceName) return d.deviceName;
  return `[${d.vendorId.replace(/^0x/, '')}:${d.deviceId.replace(/^0x/, '')}] class ${d.classCode}`;
}

export function ownerCell(d: Device): Cell {
  switch (d.owner.kind) {
    case 'guest':
      return cell(d.owner.guest ?? '?', 'ok');
    case 'vfio':
      return cell('vfio', 'accent');
    case 'host':
      return cell('host');
    case 'none':
      return cell('-', 'muted');
  }
}

/** The operation column: what runs now, or what happened last. */
export function operationCell(op: Operation | undefined, now: number, spinner: readonly string[], withKind = true): Cell {
  if (!op) return cell('');
  if (isActive(op)) return cell(operationProgress(op, now, spinner, withKind), 'pending');
  const took = formatMs(elapsedMs(op, now));
  switch (op.outcome) {
    case 'stuck':
      return cell(`STUCK ${op.op}: ${op.message ?? ''}`, 'error');
    case 'failed':
      return cell(`${op.op} failed: ${op.message ?? ''}`, 'error');
    case 'refused':
      return cell(`${op.op} refused: ${op.message ?? ''}`, 'warn');
    default:
      return cell(`${op.op} done in ${took}`, 'muted');
  }
}

/** The cells of one device's row. */
export function deviceRow(d: Device, ctx: RowContext): Record<DeviceColumnId, Cell> {
  const { op, now, symbols } = ctx;
  const running = op !== undefined && isActive(op);
  const stuck = isStuck(op);
  let name = cell(deviceName(d));
  if (!ctx.wide && (running || stuck)) name = operationCell(op, now, symbols.spinner, false);
  const mark = running
    ? cell(spinnerFrame(symbols.spinner, elapsedMs(op, now)), 'pending')
    : stuck
      ? cell(symbols.stuck, 'error')
      : d.assignable.ok
        ? cell(symbols.assignable, 'ok')
        : cell(symbols.notAssignable, 'muted');
  const reset = d.reset.methods[0];
  return {
    bdf: cell(d.bdf, stuck ? 'error' : 'normal'),
    vendor: d.vendorName ? cell(d.vendorName) : cell(d.vendorId, 'muted'),
    name,
    driver: d.driver ? cell(d.driver, d.driver === 'vfio-pci' ? 'accent' : 'normal') : cell('-', 'muted'),
    owner: ownerCell(d),
    group: d.iommuGroup === null ? cell('-', 'muted') : cell(String(d.iommuGroup)),
    irq: cell(d.interrupts.mode, d.interrupts.mode === 'none' ? 'muted' : 'normal'),
    reset: reset ? cell(reset) : cell('none', d.headerType === 'endpoint' ? 'warn' : 'muted'),
    mark,
    status: operationCell(op, now, symbols.spinner),
  };
}

const sortedCache = new WeakMap<object, Device[]>();

/** Devices in BDF order (stable across updates, so rows do not jump). */
export function sortedDevices(devices: Readonly<Record<string, Device>>): Device[] {
  const cached = sortedCache.get(devices);
  if (cached) return cached;
  const list = Object.values(devices).sort((a, b) => (a.bdf < b.bdf ? -1 : a.bdf > b.bdf ? 1 : 0));
  sortedCache.set(devices, list);
  return list;
}

const haystacks = new WeakMap<Device, string>();

/** What the filter looks in: BDF, vendor, name, ids, driver, owner. */
function haystack(d: Device): string {
  let h = haystacks.get(d);
  if (h === undefined) {
    h = [d.bdf, d.vendorName, d.vendorId, d.deviceName, d.deviceId, `${d.vendorId.replace(/^0x/, '')}:${d.deviceId.replace(/^0x/, '')}`, d.driver, d.owner.kind, d.owner.guest]
      .filter((s): s is string => typeof s === 'string')
      .join('\n')
      .toLowerCase();
    haystacks.set(d, h);
  }
  return h;
}

/** Every word of the filter must appear somewhere in the device's fields (case-insensitive). */
export function filterDevices(devices: readonly Device[], filter: string): readonly Device[] {
  const terms = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return devices;
  return devices.filter((d) => {
    const h = haystack(d);
    return terms.every((t) => h.includes(t));
  });
}
