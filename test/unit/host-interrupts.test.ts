/**
 * Interrupt modes, one fixture per mode, read back from sysfs the way the kernel shows them:
 * `msi_irqs/` only while MSI or MSI-X is on, INTx for a bound function with a pin, none otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostDevice } from '../../src/host/host-device.js';
import { parseProcInterrupts, procInterruptsLookup } from '../../src/host/interrupts.js';
import { scanHost } from '../../src/host/inventory.js';
import { buildHostTree, type FunctionSpec } from '../../src/host/sysfs-builder.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function device(spec: Partial<FunctionSpec>): HostDevice {
  const dir = mkdtempSync(join(tmpdir(), 'hotslot-irq-'));
  made.push(dir);
  const f: FunctionSpec = { bdf: '0000:00:05.0', vendorId: 0x8086, deviceId: 0x10d3, classCode: 0x020000, iommuGroup: 1, ...spec };
  const t = buildHostTree(dir, { functions: [f] });
  const d = scanHost({ sysfsRoot: t.sysfsRoot, procRoot: t.procRoot }).byBdf.get('0000:00:05.0');
  if (!d) throw new Error('fixture device missing');
  return d;
}

describe('interrupt mode', () => {
  it('is intx for a bound function with a pin and no MSI vectors', () => {
    const d = device({ driver: 'e1000', interruptPin: 'A', irq: 20, msi: { vectors: 1 } });
    expect(d.interrupts.mode).toBe('intx');
    expect(d.interrupts.pin).toBe('A');
    expect(d.interrupts.irq).toBe(20);
    expect(d.interrupts.msi).toEqual({ capable: true, enabled: false, vectors: null, maxVectors: 1 });
  });

  it('is msi while msi_irqs holds msi vectors, counting them', () => {
    const d = device({ driver: 'ahci', msi: { vectors: 4, enabled: 2 } });
    expect(d.interrupts.mode).toBe('msi');
    expect(d.interrupts.msi).toEqual({ capable: true, enabled: true, vectors: 2, maxVectors: 4 });
    expect(d.interrupts.msix.capable).toBe(false);
  });

  it('is msix while msi_irqs holds msix vectors, with the table size from config space', () => {
    const d = device({ driver: 'nvme', msix: { tableSize: 65, enabled: 3 }, msi: { vectors: 1 } });
    expect(d.interrupts.mode).toBe('msix');
    expect(d.interrupts.msix).toEqual({ capable: true, enabled: true, tableSize: 65 });
    expect(d.interrupts.msi.enabled).toBe(false);
  });

  it('is none for a function without a driver, even with a pin', () => {
    const d = device({ driver: null, interruptPin: 'A', msix: { tableSize: 4 } });
    expect(d.interrupts.mode).toBe('none');
  });

  it('is none for a function without a pin and without vectors', () => {
    const d = device({ driver: 'lpc_ich', interruptPin: null });
    expect(d.interrupts.mode).toBe('none');
    expect(d.interrupts.irq).toBeNull();
  });

  it('is none for an idle vfio-pci function, and intx once vfio-pci has armed INTx for a guest', () => {
    expect(device({ driver: 'vfio-pci', interruptPin: 'A', irq: 21 }).interrupts.mode).toBe('none');
    expect(device({ driver: 'vfio-pci', interruptPin: 'A', irq: 21, vfioIntx: true }).interrupts.mode).toBe('intx');
  });
});

describe('/proc/interrupts', () => {
  it('reads handlers and totals per line, skipping the per-CPU summary rows', () => {
    const text = [
      '           CPU0       CPU1       ',
      '  16:          3          4  IR-IO-APIC  16-fasteoi   i801_smbus, e1000',
      '  25:          0          0  IR-PCI-MSI 262144-edge      PCIe PME, aerdrv',
      '  37:          0          5  IR-PCI-MSI 524289-edge      eth2-rx-0',
      'NMI:          0          0   Non-maskable interrupts',
    ].join('\n');
    const lines = parseProcInterrupts(text);
    expect([...lines.keys()]).toEqual([16, 25, 37]);
    expect(lines.get(16)).toEqual({ irq: 16, handlers: ['i801_smbus', 'e1000'], count: 7 });
    expect(lines.get(25)?.handlers).toEqual(['PCIe PME', 'aerdrv']);
    expect(lines.get(37)?.count).toBe(5);
  });

  it('answers a line asked for alone as the whole parse does: a repeated number takes the later line, a broken one does not count', () => {
    const text = [
      '           CPU0       CPU1       ',
      '  21:          1          0  IR-IO-APIC  21-fasteoi   ehci_hcd',
      '  21:          2          0  IR-IO-APIC  21-fasteoi   vfio-intx(0000:05:01.0)',
      '  22:          0          0  IR-IO-APIC  22-fasteoi   first',
      '  22',
      'ERR:          0',
    ].join('\n');
    const all = parseProcInterrupts(text);
    const lookup = procInterruptsLookup(text);
    for (const irq of [21, 22, 23]) expect(lookup.get(irq)).toEqual(all.get(irq));
    expect(lookup.get(21)?.handlers).toEqual(['vfio-intx(0000:05:01.0)']);
    expect(lookup.get(22)?.handlers).toEqual(['first']);
    expect(procInterruptsLookup(null).get(21)).toBeUndefined();
  });
});
