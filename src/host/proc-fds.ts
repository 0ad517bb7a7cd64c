import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The pids under a procfs root that have an open descriptor whose link text (`socket:[123]`,
 * `/dev/vfio/7`) satisfies `matches`, in /proc's order. Processes whose descriptors cannot be read
 * (another user's, without root, or gone meanwhile) are skipped. `first` stops at the first match.
 */
export function pidsWithFd(procRoot: string, matches: (link: string) => boolean, first = false): number[] {
  const out: number[] = [];
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((p) => /^\d+$/.test(p));
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
        return matches(readlinkSync(join(procRoot, pid, 'fd', fd)));
      } catch {
        return false;
      }
    });
    if (!holds) continue;
    out.push(Number(pid));
    if (first) break;
  }
  return out;
}
