import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pidsWithFd } from './proc-fds.js';

export interface VfioHolder {
  pid: number;
  command: string;
}

/**
 * The processes that hold an IOMMU group's VFIO file open (`/dev/vfio/N`): a QEMU keeps it open
 * for as long as a device of the group is assigned to it, whether or not hotslot can reach its
 * QMP socket. Taking such a device off vfio-pci would block in the kernel until that process lets go.
 */
export function vfioGroupHolders(group: number, procRoot = '/proc'): VfioHolder[] {
  const target = `/dev/vfio/${group}`;
  return pidsWithFd(procRoot, (link) => link === target).map((pid) => {
    let command = '?';
    try {
      command = readFileSync(join(procRoot, String(pid), 'comm'), 'utf8').trim();
    } catch {
      // it may have exited meanwhile; the pid still says who it was
    }
    return { pid, command };
  });
}
