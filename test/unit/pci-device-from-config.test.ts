import { describe, expect, it } from 'vitest';
import { decodeConfigSpace } from '../../src/pci/config-space.js';
import type { ConfigSpace } from '../../src/pci/config-space-types.js';
import { busResetPossibleInDump, describeFromConfig } from '../../src/pci/device-from-config.js';
import { parsePciIds } from '../../src/pci/pci-ids.js';

/** A decoded config space of a plain endpoint with the given parts replaced. */
function cfgWith(parts: Partial<ConfigSpace>): ConfigSpace {
  const base = new Uint8Array(64);
  base.set([0x86, 0x80, 0xc9, 0x10], 0);
  base[0x0b] = 0x02;
  return { ...decodeConfigSpace(base), ...parts };
}

const msi = (enabled: boolean) => ({ enabled, vectorsCapable: 4, vectorsEnabled: 1, is64Bit: true, maskable: false });

describe('device record from a configuration space', () => {
  it('formats ids as in DESIGN.md and takes names from pci.ids', () => {
    const names = parsePciIds('8086  Intel Corporation\n\t10c9  82576 Gigabit Network Connection\n');
    const d = describeFromConfig('0000:01:00.0', cfgWith({}), names);
    expect(d).toMatchObject({
      bdf: '0000:01:00.0',
      vendorId: '0x8086',
      deviceId: '0x10c9',
      classCode: '0x020000',
      vendorName: 'Intel Corporation',
      deviceName: '82576 Gigabit Network Connection',
      headerType: 'endpoint',
      pcieType: null,
    });
    expect(describeFromConfig('0000:01:00.0', cfgWith({})).vendorName).toBeNull();
  });

  it('leaves what only a live host knows empty: no driver, no IOMMU group, no owner', () => {
    const d = describeFromConfig('0000:01:00.0', cfgWith({}));
    expect(d.driver).toBeNull();
    expect(d.iommuGroup).toBeNull();
    expect(d.owner).toEqual({ kind: 'none' });
    expect(d.assignable.ok).toBe(false);
    expect(d.assignable.reasons.map((r) => r.code)).toEqual(['offline']);
  });

  it('says a bridge can never be assigned', () => {
    const d = describeFromConfig('0000:00:01.0', cfgWith({ headerType: 'bridge' }));
    expect(d.assignable.reasons.map((r) => r.code)).toEqual(['offline', 'not-endpoint']);
  });

  it('derives the interrupt mode: MSI-X over MSI over the pin', () => {
    const mode = (parts: Partial<ConfigSpace>) => describeFromConfig('0000:01:00.0', cfgWith(parts)).interrupts.mode;
    expect(mode({ interruptPin: null })).toBe('none');
    expect(mode({ interruptPin: 'A' })).toBe('intx');
    expect(mode({ interruptPin: 'A', msi: msi(false) })).toBe('intx');
    expect(mode({ interruptPin: 'A', msi: msi(true) })).toBe('msi');
    expect(mode({ interruptPin: 'A', msi: msi(true), msix: { enabled: true, tableSize: 8, functionMasked: false } })).toBe('msix');
    expect(mode({ interruptPin: null, msix: { enabled: false, tableSize: 8, functionMasked: false } })).toBe('none');
  });

  it('reports the interrupt line as the irq only when there is a pin and the line is connected', () => {
    const irq = (parts: Partial<ConfigSpace>) => describeFromConfig('0000:01:00.0', cfgWith(parts)).interrupts.irq;
    expect(irq({ interruptPin: 'B', interruptLine: 11 })).toBe(11);
    expect(irq({ interruptPin: 'B', interruptLine: 0xff })).toBeNull();
    expect(irq({ interruptPin: null, interruptLine: 11 })).toBeNull();
  });

  it('offers the reset methods the configuration space allows, in the kernel order', () => {
    const reset = (parts: Partial<ConfigSpace>, bus = false) => describeFromConfig('0000:01:00.0', cfgWith(parts), undefined, { busResetPossible: bus }).reset;
    const pcie = (flr: boolean) => ({ portType: 'endpoint' as const, version: 2, flr, slotImplemented: false });
    expect(reset({}).methods).toEqual([]);
    expect(reset({ pcie: pcie(true), pm: { noSoftReset: false } }).methods).toEqual(['flr', 'pm']);
    expect(reset({ pcie: pcie(false), pm: { noSoftReset: true } })).toEqual({ methods: [], flr: false, afFlr: false, pmNoSoftReset: true, busResetPossible: false });
    expect(reset({ af: { flr: true, transactionsPending: true } }).methods).toEqual(['af_flr']);
    // The kernel's af_flr needs the TP bit too (it waits for pending transactions).
    const afWithoutTp = reset({ af: { flr: true, transactionsPending: false } });
    expect(afWithoutTp.afFlr).toBe(true);
    expect(afWithoutTp.methods).toEqual([]);
    expect(reset({ pm: { noSoftReset: false } }, true).methods).toEqual(['pm', 'bus']);
  });

  it('copies ACS flags and SR-IOV counts', () => {
    const flags = {
      sourceValidation: true,
      translationBlocking: false,
      requestRedirect: true,
      completionRedirect: true,
      upstreamForwarding: true,
      egressControl: false,
      directTranslatedP2P: false,
    };
    const d = describeFromConfig(
      '0000:01:00.0',
      cfgWith({ acs: { flags }, sriov: { totalVFs: 7, numVFs: 2, initialVFs: 8, vfOffset: 128, vfStride: 2, vfDeviceId: 0x10ca } }),
    );
    expect(d.acs).toEqual({ capable: true, flags });
    expect(d.sriov).toEqual({ totalVFs: 7, numVFs: 2 });
  });
});

describe('bus reset seen in a whole-machine dump', () => {
  const bridge = (secondary: number) => cfgWith({ headerType: 'bridge', secondaryBus: secondary, subordinateBus: secondary });
  const ep = cfgWith({});

  it('is possible for an endpoint alone below a bridge in the dump', () => {
    const result = busResetPossibleInDump([
      { bdf: '0000:00:01.0', cfg: bridge(1) },
      { bdf: '0000:01:00.0', cfg: ep },
      { bdf: '0000:00:02.0', cfg: bridge(2) },
      { bdf: '0000:02:00.0', cfg: ep },
      { bdf: '0000:02:00.1', cfg: ep },
      { bdf: '0000:00:1f.0', cfg: ep },
      { bdf: '0000:05:00.0', cfg: ep },
    ]);
    expect(Object.fromEntries(result)).toEqual({
      '0000:00:01.0': false, // a bridge
      '0000:01:00.0': true,
      '0000:00:02.0': false,
      '0000:02:00.0': false, // shares its bus with 02:00.1
      '0000:02:00.1': false,
      '0000:00:1f.0': false, // on the root bus
      '0000:05:00.0': false, // its parent bridge is not in the dump
    });
  });

  it('does not match a bridge of another domain', () => {
    const result = busResetPossibleInDump([
      { bdf: '0001:00:01.0', cfg: bridge(1) },
      { bdf: '0000:01:00.0', cfg: ep },
    ]);
    expect(result.get('0000:01:00.0')).toBe(false);
  });
});
