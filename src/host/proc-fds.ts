import { join } from 'node:path';
import { listDir, readLink } from './sysfs-files.js';

/**
 * The pids under a procfs root that have an open descriptor whose link text (`socket:[123]`,
 * `/dev/vfio/7`) satisfies `matches`, in /proc's order. Processes whose descriptors cannot be read
 * (another user's, without root, or gone meanwhile) are skipped. `first` stops at the first match.
 */
export function pidsWithFd(procRoot: string, matches: (link: string) => boolean, first = false): number[] {
  const out: number[] = [];
  for (const pid of (listDir(procRoot) ?? []).filter((p) => /^\d+$/.test(p))) {
    const holds = (listDir(join(procRoot, pid, 'fd')) ?? []).some((fd) => {
      const link = readLink(join(procRoot, pid, 'fd', fd));
      return link !== null && matches(link);
    });
    if (!holds) continue;
    out.push(Number(pid));
    if (first) break;
  }
  return out;
}
