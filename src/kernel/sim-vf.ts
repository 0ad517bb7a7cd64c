/**
 * SR-IOV in the simulated kernel: VFs appear beside their PF at the PF's offset and stride when
 * `sriov_numvfs` is written, each with its own IOMMU group, and disappear when it goes back to 0.
 * Their files follow what a real 6.1 kernel showed for an igb VF (see the lab snapshots).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { formatBdf, parseBdf } from '../pci/bdf.js';
import type { SimTree } from './sim-tree.js';

/** Attributes a VF shares with its PF. */
const COPIED = [
  'vendor', 'class', 'subsystem_vendor', 'subsystem_device', 'revision', 'numa_node', 'local_cpus', 'local_cpulist',
  'dma_mask_bits', 'consistent_dma_mask_bits', 'current_link_speed', 'current_link_width', 'max_link_speed',
  'max_link_width', 'msi_bus', 'broken_parity_status', 'ari_enabled',
];

const EXT_CAP_SRIOV = 0x10;
const IOV_RESOURCE_FIRST = 7; // PCI_IOV_RESOURCES: lines 7..12 of `resource`

/** The BDFs the PF's VFs 0..count-1 get (routing id = PF's + offset + i * stride). */
export function vfAddresses(pf: string, offset: number, stride: number, count: number): string[] {
  const b = parseBdf(pf);
  const rid = (b.bus << 8) | (b.device << 3) | b.fn;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = rid + offset + i * stride;
    out.push(formatBdf({ domain: b.domain, bus: (r >> 8) & 0xff, device: (r >> 3) & 0x1f, fn: r & 7 }));
  }
  return out;
}

interface SriovCap {
  at: number;
  totalVfs: number;
}

function findSriovCap(config: Buffer): SriovCap | null {
  let off = 0x100;
  for (let guard = 0; off >= 0x100 && off + 4 <= config.length && guard < 64; guard++) {
    const header = config.readUInt32LE(off);
    if (header === 0 || header === 0xffffffff) return null;
    if ((header & 0xffff) === EXT_CAP_SRIOV) return { at: off, totalVfs: config.readUInt16LE(off + 0x0e) };
    off = (header >>> 20) & 0xffc;
  }
  return null;
}

/**
 * A VF's config space as the kernel shows it: vendor and device read all ones (a VF does not
 * implement them; `vendor` and `device` files carry the real ids), no BARs, no INTx, and the
 * PF's capabilities without SR-IOV itself.
 */
export function vfConfig(pfConfig: Buffer): Buffer {
  const c = Buffer.from(pfConfig);
  if (c.length < 0x40) return c;
  c.writeUInt32LE(0xffffffff, 0);
  c.writeUInt16LE(0, 0x04);
  c.fill(0, 0x10, 0x28);
  c.fill(0, 0x30, 0x34);
  c[0x3c] = 0;
  c[0x3d] = 0;
  let prev = -1;
  let off = 0x100;
  for (let guard = 0; off >= 0x100 && off + 4 <= c.length && guard < 64; guard++) {
    const header = c.readUInt32LE(off);
    if (header === 0 || header === 0xffffffff) break;
    const next = (header >>> 20) & 0xffc;
    if ((header & 0xffff) === EXT_CAP_SRIOV) {
      if (prev >= 0) {
        c.writeUInt32LE(((c.readUInt32LE(prev) & 0x000fffff) | (next << 20)) >>> 0, prev);
      } else {
        c.writeUInt32LE((next << 20) >>> 0, off); // first in the list: leave a Null capability
      }
      c.fill(0, off + 4, Math.min(off + 0x40, c.length));
      break;
    }
    prev = off;
    off = next;
  }
  return c;
}

function hex(s: string | null, width: number): string {
  return (s ?? '').trim().replace(/^0x/, '').toUpperCase().padStart(width, '0');
}

/** The VF's `resource` lines: its slice of each of the PF's IOV BARs. */
function vfResources(pfResource: string, index: number, hwTotal: number): string[] {
  const lines = pfResource.split('\n').filter((l) => l.length > 0);
  const zero = '0x0000000000000000 0x0000000000000000 0x0000000000000000';
  const out: string[] = [];
  for (let bar = 0; bar < 13; bar++) {
    const iov = bar < 6 ? lines[IOV_RESOURCE_FIRST + bar] : undefined;
    const parts = iov?.split(/\s+/).map((x) => BigInt(x));
    if (!parts || parts.length < 3 || parts[1] <= parts[0] || hwTotal <= 0) {
      out.push(zero);
      continue;
    }
    const size = (parts[1] - parts[0] + 1n) / BigInt(hwTotal);
    const start = parts[0] + size * BigInt(index);
    const h = (v: bigint) => '0x' + v.toString(16).padStart(16, '0');
    out.push(`${h(start)} ${h(start + size - 1n)} ${h(parts[2])}`);
  }
  return out;
}

/** TotalVFs of the PF's SR-IOV capability: what `sriov_totalvfs` reads with no driver limiting it. */
export function hardwareTotalVfs(tree: SimTree, pf: string): number | null {
  try {
    return findSriovCap(readFileSync(join(tree.deviceDir(pf), 'config')))?.totalVfs ?? null;
  } catch {
    return null;
  }
}

/** Creates VFs 0..count-1 of `pf`; returns their addresses. The caller binds their drivers. */
export function createVfs(tree: SimTree, pf: string, count: number): string[] {
  const pfDir = tree.deviceDir(pf);
  const offset = parseInt(tree.readAttr(pf, 'sriov_offset') ?? '0', 10);
  const stride = parseInt(tree.readAttr(pf, 'sriov_stride') ?? '1', 10) || 1;
  const vfDevice = hex(tree.readAttr(pf, 'sriov_vf_device'), 4).toLowerCase();
  const pfConfig = readFileSync(join(pfDir, 'config'));
  const hwTotal = findSriovCap(pfConfig)?.totalVfs || parseInt(tree.readAttr(pf, 'sriov_totalvfs') ?? '0', 10);
  const pfGroup = tree.iommuGroupOf(pf);
  const addresses = vfAddresses(pf, offset, stride, count);
  addresses.forEach((vf, i) => {
    const dir = join(dirname(pfDir), vf);
    mkdirSync(dir, { mode: 0o755 });
    mkdirSync(join(dir, 'power'));
    const put = (name: string, text: string | Buffer, mode: number) => writeFileSync(join(dir, name), text, { mode });
    for (const name of COPIED) {
      const text = tree.readAttr(pf, name);
      if (text !== null) put(name, text, name === 'broken_parity_status' || name === 'msi_bus' ? 0o644 : 0o444);
    }
    put('device', `0x${vfDevice}\n`, 0o444);
    put('config', vfConfig(pfConfig), 0o644);
    const resources = vfResources(tree.readAttr(pf, 'resource') ?? '', i, hwTotal);
    put('resource', resources.join('\n') + '\n', 0o444);
    resources.slice(0, 6).forEach((line, bar) => {
      if (!line.startsWith('0x0000000000000000 0x0000000000000000')) put(`resource${bar}`, '', 0o600);
    });
    put('irq', '0\n', 0o444);
    put('enable', '0\n', 0o644);
    put('power_state', 'D0\n', 0o444);
    put('driver_override', '(null)\n', 0o644);
    // FLR is mandatory for VFs, and the only method the kernel lists for them.
    put('reset', '', 0o200);
    put('reset_method', 'flr\n', 0o644);
    put('remove', '', 0o220);
    put('rescan', '', 0o200);
    put('sriov_vf_msix_count', '', 0o200);
    const ven = hex(tree.readAttr(pf, 'vendor'), 4);
    const sv = hex(tree.readAttr(pf, 'subsystem_vendor'), 4);
    const sd = hex(tree.readAttr(pf, 'subsystem_device'), 4);
    const cls = hex(tree.readAttr(pf, 'class'), 6);
    const dev = vfDevice.toUpperCase();
    const modalias = `pci:v0000${ven}d0000${dev}sv0000${sv}sd0000${sd}bc${cls.slice(0, 2)}sc${cls.slice(2, 4)}i${cls.slice(4, 6)}`;
    put('modalias', modalias + '\n', 0o444);
    const pciClass = cls.replace(/^0+/, '') || '0';
    put('uevent', `PCI_CLASS=${pciClass}\nPCI_ID=${ven}:${dev}\nPCI_SUBSYS_ID=${sv}:${sd}\nPCI_SLOT_NAME=${vf}\nMODALIAS=${modalias}\n`, 0o644);
    for (const link of ['subsystem', 'iommu']) {
      const target = readLinkIn(pfDir, link);
      if (target !== null) symlinkSync(target, join(dir, link));
    }
    symlinkSync(`../${pf}`, join(dir, 'physfn'));
    symlinkSync(`../${vf}`, join(pfDir, `virtfn${i}`));
    symlinkSync(relative(tree.devicesDir, dir), join(tree.devicesDir, vf));
    if (pfGroup !== null) tree.createGroup(vf, pfGroup);
  });
  tree.setAttr(pf, 'sriov_numvfs', `${count}\n`);
  return addresses;
}

/** The PF's VFs, from its `virtfnN` links, in order. */
export function listVfs(tree: SimTree, pf: string): string[] {
  const pfDir = tree.deviceDir(pf);
  return readdirSync(pfDir)
    .filter((n) => /^virtfn\d+$/.test(n))
    .sort((a, b) => parseInt(a.slice(6), 10) - parseInt(b.slice(6), 10))
    .map((n) => basename(readlinkSync(join(pfDir, n))));
}

/** Removes every VF of `pf` (drivers unbound first, groups freed), and sets the count to 0. */
export function removeVfs(tree: SimTree, pf: string, beforeRemove: (vf: string) => void): string[] {
  const pfDir = tree.deviceDir(pf);
  const vfs = listVfs(tree, pf);
  for (const vf of [...vfs].reverse()) {
    if (tree.hasDevice(vf)) {
      beforeRemove(vf);
      const dir = tree.deviceDir(vf);
      tree.leaveGroup(vf);
      rmSync(join(tree.devicesDir, vf), { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const n of readdirSync(pfDir).filter((x) => /^virtfn\d+$/.test(x))) rmSync(join(pfDir, n), { force: true });
  if (existsSync(join(pfDir, 'sriov_numvfs'))) tree.setAttr(pf, 'sriov_numvfs', '0\n');
  return vfs;
}

function readLinkIn(dir: string, name: string): string | null {
  try {
    return readlinkSync(join(dir, name));
  } catch {
    return null;
  }
}
