/**
 * Interrupt modes. sysfs `msi_irqs/` says whether MSI or MSI-X is in use (it exists only while one
 * is enabled); otherwise a function with a pin and a driver uses INTx. `/proc/interrupts` names
 * the handlers on each line, which tells who shares an INTx line and whether vfio-pci has armed
 * INTx for a guest.
 */
import type { InterruptMode, Interrupts } from '../core/device.js';
import type { ConfigSpace } from '../pci/config-space-types.js';
import type { SysfsFunction } from './sysfs-reader.js';

export interface IrqLine {
  irq: number;
  /** Handler names, e.g. `eth2-rx-0`, `vfio-intx(0000:05:01.0)`, `PCIe PME`. */
  handlers: string[];
  /** Sum over CPUs. */
  count: number;
}

/** What the inventory asks of `/proc/interrupts`: one numbered line (a Map answers it too). */
export interface IrqLookup {
  get(irq: number): IrqLine | undefined;
}

/** Numbered lines of `/proc/interrupts` (NMI, LOC and the like are skipped). */
export function parseProcInterrupts(text: string | null): Map<number, IrqLine> {
  const lines = new Map<number, IrqLine>();
  if (!text) return lines;
  const rows = text.split('\n');
  const cpus = cpuColumns(rows[0] ?? '');
  for (const row of rows.slice(1)) {
    const line = parseRow(row, cpus);
    if (line) lines.set(line.irq, line);
  }
  return lines;
}

/**
 * The same lines as `parseProcInterrupts`, each parsed when first asked for. A host with many
 * VFs has ten thousand lines, and a scan asks for the few of vfio-bound functions without MSI.
 */
export function procInterruptsLookup(text: string | null): IrqLookup {
  let rows: Map<number, number[]> | null = null;
  const parsed = new Map<number, IrqLine | undefined>();
  return {
    get(irq) {
      if (!text) return undefined;
      if (parsed.has(irq)) return parsed.get(irq);
      rows ??= rowsByNumber(text);
      const nl = text.indexOf('\n');
      const cpus = cpuColumns(nl < 0 ? text : text.slice(0, nl));
      // The last row that parses wins, as in parseProcInterrupts.
      let line: IrqLine | undefined;
      const starts = rows.get(irq) ?? [];
      for (let i = starts.length - 1; i >= 0 && !line; i--) {
        const end = text.indexOf('\n', starts[i]);
        line = parseRow(text.slice(starts[i], end < 0 ? text.length : end), cpus) ?? undefined;
        if (line && line.irq !== irq) line = undefined;
      }
      parsed.set(irq, line);
      return line;
    },
  };
}

/** Where each row after the header starts, by the number it begins with. */
function rowsByNumber(text: string): Map<number, number[]> {
  const rows = new Map<number, number[]>();
  const prefix = /\s*(\d+):/y;
  let start = text.indexOf('\n') + 1;
  while (start > 0 && start <= text.length) {
    prefix.lastIndex = start;
    const m = prefix.exec(text);
    const next = text.indexOf('\n', start);
    // A prefix that runs past the row's end is not this row's number.
    if (m && (next < 0 || prefix.lastIndex <= next)) {
      const irq = parseInt(m[1], 10);
      const list = rows.get(irq);
      if (list) list.push(start);
      else rows.set(irq, [start]);
    }
    if (next < 0) break;
    start = next + 1;
  }
  return rows;
}

function cpuColumns(header: string): number {
  return header.trim().split(/\s+/).filter((c) => /^CPU\d+$/.test(c)).length;
}

function parseRow(row: string, cpus: number): IrqLine | null {
  const m = /^\s*(\d+):(.*)$/.exec(row);
  if (!m) return null;
  const tokens = m[2].trim().split(/\s+/);
  let count = 0;
  let i = 0;
  for (; i < tokens.length && i < cpus && /^\d+$/.test(tokens[i]); i++) count += parseInt(tokens[i], 10);
  // After the counts: the chip, the hardware irq and trigger (`16-fasteoi`, `524288-edge`), then handlers.
  let j = i;
  while (j < tokens.length && !/^\d+-\w+$/.test(tokens[j])) j++;
  const first = j < tokens.length ? j + 1 : i + 2;
  // Most lines name one handler in one word; the general case joins the words and cuts at commas.
  const handlers =
    first === tokens.length - 1 && !tokens[first].includes(',')
      ? [tokens[first]]
      : tokens
          .slice(first)
          .join(' ')
          .split(',')
          .map((h) => h.trim())
          .filter((h) => h !== '');
  return { irq: parseInt(m[1], 10), handlers, count };
}

/**
 * The mode a function uses now. vfio-pci requests no interrupt until a guest enables one, so a
 * vfio-bound function without MSI vectors uses INTx only when `/proc/interrupts` shows
 * `vfio-intx(BDF)`.
 */
export function interruptModeOf(raw: SysfsFunction, pin: Interrupts['pin'], irqLines: IrqLookup): InterruptMode {
  if (raw.msi) return raw.msi.mode;
  if (pin === null || raw.driver === null) return 'none';
  if (raw.driver === 'vfio-pci') {
    const line = raw.irq ? irqLines.get(raw.irq) : undefined;
    return line?.handlers.some((h) => h === `vfio-intx(${raw.bdf})`) ? 'intx' : 'none';
  }
  return 'intx';
}

/** The interrupts block of a device: capabilities from config space, state from sysfs. */
export function interruptsOf(raw: SysfsFunction, cfg: ConfigSpace, irqLines: IrqLookup): Interrupts {
  const pin = cfg.interruptPin;
  const mode = interruptModeOf(raw, pin, irqLines);
  const msiVectors = raw.msi?.mode === 'msi' ? raw.msi.irqs.length : null;
  return {
    pin,
    irq: raw.irq && raw.irq > 0 ? raw.irq : null,
    msi: {
      capable: cfg.msi !== null,
      enabled: raw.msi?.mode === 'msi',
      vectors: msiVectors,
      maxVectors: cfg.msi?.vectorsCapable ?? null,
    },
    msix: {
      capable: cfg.msix !== null,
      enabled: raw.msi?.mode === 'msix',
      tableSize: cfg.msix?.tableSize ?? null,
    },
    mode,
  };
}

/** Total interrupt count per BDF from its MSI vectors and, in INTx mode, its line (shared lines count fully). */
export function interruptCounts(
  functions: Iterable<{ bdf: string; msiIrqs: number[]; intxIrq: number | null }>,
  irqLines: Map<number, IrqLine>,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of functions) {
    let total = 0;
    for (const irq of f.msiIrqs) total += irqLines.get(irq)?.count ?? 0;
    if (f.intxIrq !== null) total += irqLines.get(f.intxIrq)?.count ?? 0;
    counts[f.bdf] = total;
  }
  return counts;
}
