import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pidsWithFd } from '../host/proc-fds.js';

/**
 * Which process serves a QMP unix socket, and whether it may lock its memory. vfio pins all guest
 * RAM, so the QEMU process's RLIMIT_MEMLOCK must cover it or `device_add` fails deep in QEMU.
 */

/** The pid listening on a unix socket path: /proc/net/unix gives the inode, /proc/PID/fd the owner. */
export function pidListeningOn(socketPath: string, procRoot = '/proc'): number | null {
  let table: string;
  try {
    table = readFileSync(join(procRoot, 'net', 'unix'), 'utf8');
  } catch {
    return null;
  }
  const inodes = new Set<string>();
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    // Num RefCount Protocol Flags Type St Inode Path; flag 00010000 is __SO_ACCEPTCON (listening).
    if (cols.length >= 8 && cols[7] === socketPath && cols[3] === '00010000') inodes.add(cols[6]);
  }
  if (inodes.size === 0) return null;
  const [pid] = pidsWithFd(procRoot, (link) => inodes.has(/^socket:\[(\d+)\]$/.exec(link)?.[1] ?? ''), true);
  return pid ?? null;
}

/** RLIMIT_MEMLOCK soft limit in bytes (Infinity for unlimited), or null when unreadable. */
export function memlockLimit(pid: number, procRoot = '/proc'): number | null {
  let text: string;
  try {
    text = readFileSync(join(procRoot, String(pid), 'limits'), 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n').find((l) => l.startsWith('Max locked memory'));
  if (!line) return null;
  const soft = line.slice('Max locked memory'.length).trim().split(/\s+/)[0];
  if (soft === 'unlimited') return Infinity;
  const n = Number(soft);
  return Number.isFinite(n) ? n : null;
}

/** The process may lock any amount of memory: CAP_IPC_LOCK in its effective set overrides the limit. */
export function hasIpcLock(pid: number, procRoot = '/proc'): boolean {
  try {
    const status = readFileSync(join(procRoot, String(pid), 'status'), 'utf8');
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    return m !== null && (BigInt('0x' + m[1]) & (1n << 14n)) !== 0n; // CAP_IPC_LOCK
  } catch {
    return false;
  }
}
