/**
 * Where a function sits: its bus, the functions it shares that bus with, and the bridges above it.
 * A secondary bus reset resets every function on the bus; a conventional PCI bus behind a
 * PCIe-to-PCI bridge shares one requester ID, so its functions reach a guest together.
 */
import type { HeaderType, PcieType } from '../core/device.js';

export interface Placed {
  bdf: string;
  headerType: HeaderType | null;
  pcieType: PcieType | null;
  /** Parent bridges, nearest first. */
  parents: readonly string[];
}

/** `0000:05:01.0` -> `0000:05`. */
export function busOf(bdf: string): string {
  return bdf.slice(0, 7);
}

export class Topology {
  private readonly byBdf = new Map<string, Placed>();
  private readonly byBus = new Map<string, string[]>();

  constructor(all: Iterable<Placed>) {
    for (const d of all) {
      this.byBdf.set(d.bdf, d);
      const bus = busOf(d.bdf);
      const list = this.byBus.get(bus);
      if (list) list.push(d.bdf);
      else this.byBus.set(bus, [d.bdf]);
    }
    for (const list of this.byBus.values()) list.sort();
  }

  /** How many other functions share the bus. */
  busNeighbourCount(bdf: string): number {
    return (this.byBus.get(busOf(bdf))?.length ?? 1) - 1;
  }

  /** Other functions on the same bus: a secondary bus reset would reset them too. */
  busNeighbours(bdf: string): string[] {
    return (this.byBus.get(busOf(bdf)) ?? []).filter((b) => b !== bdf);
  }

  /**
   * For a conventional PCI function (no PCIe capability) behind a bridge: the topmost bridge above
   * it that is a PCIe-to-PCI bridge or itself conventional, where requester IDs start to be
   * aliased. Null for PCIe functions, on a root bus, or plugged straight into a PCIe port.
   */
  pciBridgeAbove(bdf: string): string | null {
    const dev = this.byBdf.get(bdf);
    if (!dev || dev.pcieType !== null) return null;
    let found: string | null = null;
    for (const p of dev.parents) {
      const bridge = this.byBdf.get(p);
      if (!bridge) break;
      if (bridge.pcieType === null || bridge.pcieType === 'pcie-to-pci-bridge') found = p;
      else break;
    }
    return found;
  }

  /** Every function below `bridge`, at any depth. */
  functionsBehind(bridge: string): string[] {
    const out: string[] = [];
    for (const d of this.byBdf.values()) if (d.parents.includes(bridge)) out.push(d.bdf);
    return out.sort();
  }

  get(bdf: string): Placed | undefined {
    return this.byBdf.get(bdf);
  }
}
