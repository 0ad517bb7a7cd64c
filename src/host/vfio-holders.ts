import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface VfioHolder {
  pid: number;
  command: string;
}

/**
 * The processes that hold an IOMMU group's VFIO file open (`/dev/vfio/N`): a QEMU keeps it open
 * for as long as a device of the group is assigned to it, whether or not hotslot can reach its
 * QMP socket. Taking such a device off vfio-pci would block in the kernel until that process lets
 * go. Processes whose descriptors cannot be read (another user's, without root) are skipped.
 */
export function vfioGroupHolders(group: number, procRoot = '/proc'): VfioHolder[] {
  const target = `/dev/vfio/${group}`;
  const out: VfioHolder[] = [];
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(join(procRoot, pid, 'fd'));
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        return readlinkSync(join(procRoot, pid, 'fd', fd)) === target;
      } catch {
        return false;
      }
    });
    if (!holds) continue;
    let command = '?';
    try {
      command = readFileSync(join(procRoot, pid, 'comm'), 'utf8').trim();
    } catch {
      // it may have exited meanwhile; the pid still says who it was
    }
    out.push({ pid: Number(pid), command });
  }
  return out;
}
