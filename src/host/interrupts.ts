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

/** Numbered lines of `/proc/interrupts` (NMI, LOC and the like are skipped). */
export function parseProcInterrupts(text: string | null): Map<number, IrqLine> {
  const lines = new Map<number, IrqLine>();
  if (!text) return lines;
  const rows = text.split('\n');
  const cpus = (rows[0] ?? '').trim().split(/\s+/).filter((c) => /^CPU\d+$/.test(c)).length;
  for (const row of rows.slice(1)) {
    const m = /^\s*(\d+):(.*)$/.exec(row);
    if (!m) continue;
    const tokens = m[2].trim().split(/\s+/);
    let count = 0;
    let i = 0;
    for (; i < tokens.length && i < cpus && /^\d+$/.test(tokens[i]); i++) count += parseInt(tokens[i], 10);
    // After the counts: the chip, the hardware irq and trigger (`16-fasteoi`, `524288-edge`), then handlers.
    let j = i;
    while (j < tokens.length && !/^\d+-\w+$/.test(tokens[j])) j++;
    const rest = j < tokens.length ? tokens.slice(j + 1) : tokens.slice(i + 2);
    const handlers = rest
      .join(' ')
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '');
    lines.set(parseInt(m[1], 10), { irq: parseInt(m[1], 10), handlers, count });
  }
  return lines;
}

/**
 * The mode a function uses now. vfio-pci requests no interrupt until a guest enables one, so a
 * vfio-bound function without MSI vectors uses INTx only when `/proc/interrupts` shows
 * `vfio-intx(BDF)`.
 */
export function interruptModeOf(raw: SysfsFunction, pin: Interrupts['pin'], irqLines: Map<number, IrqLine>): InterruptMode {
  if (raw.msi) return raw.msi.mode;
  if (pin === null || raw.driver === null) return 'none';
  if (raw.driver === 'vfio-pci') {
    const line = raw.irq ? irqLines.get(raw.irq) : undefined;
    return line?.handlers.some((h) => h === `vfio-intx(${raw.bdf})`) ? 'intx' : 'none';
  }
  return 'intx';
}

/** The interrupts block of a device: capabilities from config space, state from sysfs. */
export function interruptsOf(raw: SysfsFunction, cfg: ConfigSpace, irqLines: Map<number, IrqLine>): Interrupts {
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
