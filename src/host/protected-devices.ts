/**
 * Devices the host cannot lose: host bridges, the boot VGA, whatever holds the root filesystem
 * (or any other mounted filesystem, or swap), the NIC of the default route, and the BDFs of the
 * config `protect` list. Found by following the kernel's own links from what procfs says is in
 * use (mountinfo, swaps, net/route) down to a PCI function.
 */
import { posix as path } from 'node:path';
import { listDir, readText, resolveLinkUnder } from './sysfs-files.js';
import { isBdf } from '../pci/bdf.js';

export type ProtectionKind =
  | 'host-bridge'
  | 'boot-vga'
  | 'root-filesystem'
  | 'mounted-filesystem'
  | 'swap'
  | 'default-route'
  | 'config';

export interface Protection {
  kind: ProtectionKind;
  /** Why, in an operator's words: `it holds the root filesystem (/dev/vda, ext4)`. */
  message: string;
}

/** What procfs says is in use; read once per scan and compared cheaply by the watcher. */
export interface InUse {
  mountinfo: string | null;
  swaps: string | null;
  route: string | null;
  ipv6Route: string | null;
}

export function readInUse(procRoot: string): InUse {
  const mountinfo = readText(path.join(procRoot, 'self/mountinfo'));
  return {
    // Snapshots and old systems may only have `mounts`.
    mountinfo: mountinfo ?? mountsAsMountinfo(readText(path.join(procRoot, 'mounts'))),
    swaps: readText(path.join(procRoot, 'swaps')),
    route: readText(path.join(procRoot, 'net/route')),
    ipv6Route: readText(path.join(procRoot, 'net/ipv6_route')),
  };
}

export function sameInUse(a: InUse, b: InUse): boolean {
  return a.mountinfo === b.mountinfo && a.swaps === b.swaps && a.route === b.route && a.ipv6Route === b.ipv6Route;
}

interface Mount {
  majorMinor: string | null;
  mountPoint: string;
  fsType: string;
  source: string;
  options: string;
}

export function parseMountinfo(text: string | null): Mount[] {
  if (!text) return [];
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 5 || right.length < 2) continue;
    mounts.push({
      majorMinor: left[2] ?? null,
      mountPoint: unescapeMount(left[4]),
      fsType: right[0],
      source: unescapeMount(right[1]),
      options: right[2] ?? '',
    });
  }
  return mounts;
}

/** `/proc/mounts` lines turned into the mountinfo shape, with the device number unknown. */
function mountsAsMountinfo(text: string | null): string | null {
  if (text === null) return null;
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const [source, mountPoint, fsType, options] = l.split(' ');
      return `${i + 1} 0 ?:? / ${mountPoint} ${options} - ${fsType} ${source} ${options}`;
    })
    .join('\n');
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The BDF-shaped component nearest the end of a device path. */
export function bdfInPath(rel: string): string | null {
  const parts = rel.split('/');
  for (let i = parts.length - 1; i >= 0; i--) if (isBdf(parts[i])) return parts[i];
  return null;
}

/**
 * The PCI functions under a block device: partitions lead to their disk, device-mapper and md
 * devices to their `slaves`, and an NVMe namespace under the virtual `nvme-subsysN` to the
 * `nvmeN` controllers that subsystem links to.
 */
export function blockDeviceFunctions(sysfsRoot: string, blockRel: string, depth = 0): string[] {
  if (depth > 8) return [];
  let rel = blockRel;
  const entries = new Set(listDir(path.join(sysfsRoot, rel)) ?? []);
  if (entries.has('partition')) {
    rel = path.dirname(rel);
  }
  const slaves = listDir(path.join(sysfsRoot, rel, 'slaves')) ?? [];
  if (slaves.length > 0) {
    return unique(
      slaves.flatMap((s) => {
        const slaveRel = resolveLinkUnder(sysfsRoot, path.join(sysfsRoot, rel, 'slaves', s));
        return slaveRel ? blockDeviceFunctions(sysfsRoot, slaveRel, depth + 1) : [];
      }),
    );
  }
  const bdf = bdfInPath(rel);
  if (bdf) return [bdf];
  // devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1: the controllers are links beside it.
  const subsys = path.dirname(rel);
  if (path.basename(path.dirname(subsys)) === 'nvme-subsystem') {
    const controllers = (listDir(path.join(sysfsRoot, subsys)) ?? []).filter((n) => /^nvme\d+$/.test(n));
    return unique(
      controllers.flatMap((c) => {
        const cRel = resolveLinkUnder(sysfsRoot, path.join(sysfsRoot, subsys, c));
        const f = cRel ? bdfInPath(cRel) : null;
        return f ? [f] : [];
      }),
    );
  }
  return [];
}

/** The PCI functions under a network interface, following `lower_*` links through bridges, bonds and VLANs. */
export function netDeviceFunctions(sysfsRoot: string, ifname: string, depth = 0): string[] {
  if (depth > 8 || ifname.includes('/')) return [];
  const rel = resolveLinkUnder(sysfsRoot, path.join(sysfsRoot, 'class/net', ifname));
  if (!rel) return [];
  const bdf = bdfInPath(rel);
  if (bdf) return [bdf];
  const lowers = (listDir(path.join(sysfsRoot, rel)) ?? []).filter((n) => n.startsWith('lower_'));
  return unique(lowers.flatMap((l) => netDeviceFunctions(sysfsRoot, l.slice('lower_'.length), depth + 1)));
}

/** The virtio function whose 9p `mount_tag` is `tag` (the kernel ends the tag with a NUL byte). */
function ninePFunctions(sysfsRoot: string, tag: string): string[] {
  const virtioDir = path.join(sysfsRoot, 'bus/virtio/devices');
  const out: string[] = [];
  for (const v of listDir(virtioDir) ?? []) {
    const rel = resolveLinkUnder(sysfsRoot, path.join(virtioDir, v));
    if (!rel) continue;
    const raw = readText(path.join(sysfsRoot, rel, 'mount_tag')) ?? readText(path.join(sysfsRoot, rel, 'tag'));
    if (raw === null) continue;
    if (raw.replace(/\0/g, '').trim() === tag) {
      const bdf = bdfInPath(rel);
      if (bdf) out.push(bdf);
    }
  }
  return out;
}

function mountFunctions(sysfsRoot: string, m: Mount): string[] {
  if (m.fsType === '9p' || m.fsType === 'virtiofs') {
    if (m.fsType === '9p' && !/(^|,)trans=virtio(,|$)/.test(m.options)) return [];
    return ninePFunctions(sysfsRoot, m.source);
  }
  if (m.majorMinor && /^\d+:\d+$/.test(m.majorMinor) && !m.majorMinor.startsWith('0:')) {
    const rel = resolveLinkUnder(sysfsRoot, path.join(sysfsRoot, 'dev/block', m.majorMinor));
    if (rel) return blockDeviceFunctions(sysfsRoot, rel);
  }
  if (m.source.startsWith('/dev/')) return blockByName(sysfsRoot, m.source);
  return [];
}

function blockByName(sysfsRoot: string, devPath: string): string[] {
  const name = path.basename(devPath);
  const rel = resolveLinkUnder(sysfsRoot, path.join(sysfsRoot, 'class/block', name));
  return rel ? blockDeviceFunctions(sysfsRoot, rel) : [];
}

/** Interfaces that carry a default route, IPv4 (`/proc/net/route`) and IPv6 (`/proc/net/ipv6_route`). */
export function defaultRouteInterfaces(inUse: InUse): string[] {
  const out: string[] = [];
  for (const line of (inUse.route ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , , mask] = f;
    if (dest === '00000000' && mask === '00000000' && (parseInt(flags, 16) & 0x1) !== 0) out.push(iface);
  }
  for (const line of (inUse.ipv6Route ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const flags = parseInt(f[8], 16);
    const up = (flags & 0x1) !== 0;
    const reject = (flags & 0x200) !== 0;
    if (/^0{32}$/.test(f[0]) && f[1] === '00' && up && !reject && f[9] !== 'lo') out.push(f[9]);
  }
  return unique(out);
}

export interface ProtectInput {
  sysfsRoot: string;
  inUse: InUse;
  /** Functions with their class and `boot_vga`, as read. */
  functions: Iterable<{ bdf: string; classCode: number | null; bootVga: boolean | null }>;
  /** Config `protect` list (normalised BDFs). */
  configProtect: readonly string[];
  configFile?: string;
}

export function findProtected(input: ProtectInput): Map<string, Protection[]> {
  const out = new Map<string, Protection[]>();
  const add = (bdf: string, p: Protection) => {
    const list = out.get(bdf) ?? [];
    if (!list.some((q) => q.kind === p.kind && q.message === p.message)) list.push(p);
    out.set(bdf, list);
  };
  for (const f of input.functions) {
    if (f.classCode !== null && f.classCode >> 8 === 0x0600) add(f.bdf, { kind: 'host-bridge', message: 'it is a host bridge' });
    if (f.bootVga) add(f.bdf, { kind: 'boot-vga', message: 'it is the boot VGA device (the host console)' });
  }
  for (const m of parseMountinfo(input.inUse.mountinfo)) {
    const bdfs = mountFunctions(input.sysfsRoot, m);
    for (const bdf of bdfs) {
      if (m.mountPoint === '/') {
        add(bdf, { kind: 'root-filesystem', message: `it holds the root filesystem (${m.source}, ${m.fsType})` });
      } else {
        add(bdf, { kind: 'mounted-filesystem', message: `it holds a mounted filesystem (${m.source} on ${m.mountPoint}, ${m.fsType})` });
      }
    }
  }
  for (const line of (input.inUse.swaps ?? '').split('\n').slice(1)) {
    const file = line.trim().split(/\s+/)[0];
    if (!file?.startsWith('/dev/')) continue;
    for (const bdf of blockByName(input.sysfsRoot, file)) add(bdf, { kind: 'swap', message: `it holds swap space (${file})` });
  }
  for (const iface of defaultRouteInterfaces(input.inUse)) {
    for (const bdf of netDeviceFunctions(input.sysfsRoot, iface)) {
      add(bdf, { kind: 'default-route', message: `it carries the default route (${iface})` });
    }
  }
  // The root device's other mounts (bind mounts, /boot on the same disk) add nothing to say.
  for (const [bdf, list] of out) {
    if (list.some((p) => p.kind === 'root-filesystem')) out.set(bdf, list.filter((p) => p.kind !== 'mounted-filesystem'));
  }
  for (const bdf of input.configProtect) {
    add(bdf, { kind: 'config', message: `it is on the protect list${input.configFile ? ` of ${input.configFile}` : ''}` });
  }
  return out;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
