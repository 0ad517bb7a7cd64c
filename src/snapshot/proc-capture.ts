/**
 * The procfs files hotslot reads (interrupts for interrupt modes; mountinfo, mounts, swaps and
 * the routes for protected devices), plus cmdline and modules for whoever studies the snapshot.
 * Each is stored as a regular file where `--proc-root` looks for it, also when the live one is
 * reached through a link (`/proc/mounts` and `/proc/net` lead into `/proc/self`).
 */
import { realpathSync } from 'node:fs';
import { readBounded } from './bounded-read.js';
import type { SnapshotEntry } from './entries.js';

/** /proc/interrupts grows with CPUs times vectors: a few MiB on a large host. */
export const MAX_PROC_BYTES = 16 << 20;

export const PROC_FILES = ['interrupts', 'cmdline', 'mounts', 'self/mountinfo', 'swaps', 'net/route', 'net/ipv6_route', 'modules'] as const;

export interface ProcCapture {
  entries: SnapshotEntry[];
  /** Files the proc root does not have (a fixture tree may lack cmdline and modules). */
  missing: string[];
}

export function captureProc(procRoot: string, prefix = 'proc'): ProcCapture {
  const entries: SnapshotEntry[] = [{ kind: 'dir', path: prefix, mode: 0o755, note: 'partial' }];
  const dirs = new Set<string>();
  const missing: string[] = [];
  for (const rel of PROC_FILES) {
    const from = `${procRoot}/${rel}`;
    const r = readWhole(from);
    if (r === null) {
      missing.push(rel);
      continue;
    }
    const slash = rel.indexOf('/');
    if (slash > 0 && !dirs.has(rel.slice(0, slash))) {
      dirs.add(rel.slice(0, slash));
      entries.push({ kind: 'dir', path: `${prefix}/${rel.slice(0, slash)}`, mode: 0o755, note: 'partial' });
    }
    entries.push({ kind: 'file', path: `${prefix}/${rel}`, mode: 0o444, data: r.data, kernelSize: 0, note: `${r.truncated ? 'truncated ' : ''}from ${from}` });
  }
  return { entries, missing };
}

/** procfs files are followed through their links (`self`, `net`), unlike sysfs attributes. */
function readWhole(file: string): { data: Buffer; truncated: boolean } | null {
  let real: string;
  try {
    real = realpathSync.native(file);
  } catch {
    return null;
  }
  const r = readBounded(real, MAX_PROC_BYTES);
  return r.ok ? r : null;
}
