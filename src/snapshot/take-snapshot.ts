/**
 * `hotslot snapshot`: the parts of a sysfs and a procfs root that hotslot reads, what lspci said
 * at the same moment, and a manifest, in one .tar.gz laid out as the lab corpus is:
 * `sys/...`, `proc/...`, `oracle/{manifest.tsv, snapshot.json, lspci-D-*.txt}`.
 * `--sysfs-root X/sys --proc-root X/proc` on the extracted copy reads what the live tree said.
 */
import { realpathSync, statSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { join, resolve } from 'node:path';
import { countEntries, manifestTsv, type SnapshotCounts, type SnapshotEntry } from './entries.js';
import { lspciOracle, lspciUnchanged } from './lspci-oracle.js';
import { captureProc } from './proc-capture.js';
import { SysfsCapture } from './sysfs-capture.js';
import { PendingTarball } from './tarball.js';

export { OutputError } from './tarball.js';

/** The roots are not what they claim to be; nothing was written. */
export class SnapshotInputError extends Error {
  override name = 'SnapshotInputError';
}

export interface SnapshotOptions {
  sysfsRoot: string;
  procRoot: string;
  /** Default: `hotslot-snapshot-HOST-YYYYMMDD-HHMMSS.tar.gz` in `cwd`. */
  output?: string;
  force?: boolean;
  cwd?: string;
  /** hotslot's version, recorded in `oracle/snapshot.json`. */
  version: string;
}

export interface SnapshotSummary extends SnapshotCounts {
  file: string;
  /** Size of the .tar.gz. */
  tarballBytes: number;
  /** Whether lspci's outputs are in `oracle/`. */
  lspci: boolean;
  /** procfs files the proc root did not have. */
  missingProc: string[];
  warnings: string[];
}

export function defaultSnapshotName(host: string, at: Date): string {
  const stamp = at.toISOString().replace(/\.\d+Z$/, '').replace(/-|:/g, '').replace('T', '-');
  return `hotslot-snapshot-${host.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}.tar.gz`;
}

export async function takeSnapshot(opts: SnapshotOptions): Promise<SnapshotSummary> {
  const sysfsRoot = sysfsTree(opts.sysfsRoot);
  const procRoot = directory(opts.procRoot, '--proc-root');
  const takenAt = new Date();
  const file = resolve(opts.cwd ?? process.cwd(), opts.output ?? defaultSnapshotName(hostname(), takenAt));
  const pending = PendingTarball.open(file, opts.force ?? false);
  const stop = discardOnSignal(pending);
  try {
    const oracle = lspciOracle(sysfsRoot);
    const sys = new SysfsCapture(sysfsRoot).run();
    const proc = captureProc(procRoot);
    const warnings = [...(oracle?.problems ?? [])];
    if (oracle && !lspciUnchanged(sysfsRoot, oracle)) warnings.push('lspci -D -nn -k changed while the snapshot was taken (a driver bound, a device came or went): take it again for a consistent one');
    const captured = [...sys, ...proc.entries];
    const counts = countEntries(captured);
    const meta = {
      format: 1,
      hotslot: opts.version,
      host: hostname(),
      kernel: release(),
      takenAt: takenAt.toISOString(),
      sysfsRoot: opts.sysfsRoot,
      procRoot: opts.procRoot,
      uid: process.getuid?.() ?? null,
      ...counts,
      lspci: oracle !== null,
      missingProc: proc.missing,
      warnings,
    };
    const text = (path: string, body: string): SnapshotEntry => ({ kind: 'file', path, mode: 0o644, data: Buffer.from(body), kernelSize: 0, note: '' });
    const oracleEntries: SnapshotEntry[] = [
      { kind: 'dir', path: 'oracle', mode: 0o755, note: '' },
      text('oracle/manifest.tsv', manifestTsv(captured)),
      text('oracle/snapshot.json', JSON.stringify(meta, null, 2) + '\n'),
      ...(oracle?.outputs ?? []).map((o) => text(`oracle/${o.file}`, o.text)),
    ];
    const tarballBytes = await pending.write([...captured, ...oracleEntries], takenAt);
    pending.commit();
    return { file, ...counts, tarballBytes, lspci: oracle !== null, missingProc: proc.missing, warnings };
  } finally {
    pending.discard();
    stop();
  }
}

function directory(dir: string, option: string): string {
  let real: string;
  try {
    real = realpathSync.native(dir);
  } catch {
    throw new SnapshotInputError(`${option} ${dir} does not exist`);
  }
  if (!statSync(real).isDirectory()) throw new SnapshotInputError(`${option} ${dir} is not a directory`);
  return real;
}

/** A sysfs root: a directory with `bus/pci/devices`, as every reading command needs. */
function sysfsTree(dir: string): string {
  const real = directory(dir, '--sysfs-root');
  let devices = false;
  try {
    devices = statSync(join(real, 'bus/pci/devices')).isDirectory();
  } catch {
    // no such directory
  }
  if (!devices) throw new SnapshotInputError(`--sysfs-root ${dir} is not a sysfs tree (it has no bus/pci/devices)`);
  return real;
}

/** Ctrl-C or a kill while the snapshot is taken removes the unfinished file. */
function discardOnSignal(pending: PendingTarball): () => void {
  const signals = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  const handlers = Object.entries(signals).map(([sig, status]) => {
    const h = () => {
      pending.discard();
      process.exit(status);
    };
    process.once(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };
}
