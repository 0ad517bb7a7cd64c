/**
 * Sysfs snapshots extracted into a fresh temporary directory per test (tests change them): the
 * real-kernel ones of ../shared/corpus/lab-sysfs/, the project's own under test/fixtures/
 * (written by `hotslot snapshot`, e.g. `lab-boot.tar.gz`), or any such tarball; and a listing
 * to prove a tree unchanged.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type SnapshotName = 'boot' | 'assigned';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The corpus folder: `$HOTSLOT_LAB_SYSFS`, else `../shared/corpus/lab-sysfs` beside the checkout. */
export function labSysfsDir(): string {
  return process.env.HOTSLOT_LAB_SYSFS ?? resolve(REPO, '../shared/corpus/lab-sysfs');
}

/** The project's snapshots: `test/fixtures/*.tar.gz`. */
export function fixturesDir(): string {
  return join(REPO, 'test', 'fixtures');
}

/** Names of the project's snapshots (`lab-boot` for test/fixtures/lab-boot.tar.gz), sorted; none when there are none. */
export function projectSnapshotNames(): string[] {
  if (!existsSync(fixturesDir())) return [];
  return readdirSync(fixturesDir())
    .filter((f) => f.endsWith('.tar.gz'))
    .map((f) => f.slice(0, -'.tar.gz'.length))
    .sort();
}

/**
 * Where trees are extracted: memory-backed /dev/shm when there is one (a snapshot is 2500 small
 * files: 30 ms there against most of a second on a busy disk), else the system's temp dir.
 */
function scratchDir(): string {
  if (process.env.HOTSLOT_TEST_TMP) return process.env.HOTSLOT_TEST_TMP;
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

export interface LabSnapshot {
  /** The extraction directory (holds sys/, proc/, oracle/). */
  dir: string;
  /** `DIR/sys`: the sysfs root to give hotslot. */
  sysfsRoot: string;
  procRoot: string;
  oracleDir: string;
  remove(): void;
}

/** A corpus snapshot: `boot` or `assigned` of ../shared/corpus/lab-sysfs. */
export async function extractLabSnapshot(name: SnapshotName): Promise<LabSnapshot> {
  return extractSnapshotFile(join(labSysfsDir(), `${name}.tar.gz`));
}

/** A project snapshot: `test/fixtures/NAME.tar.gz`. */
export async function extractProjectSnapshot(name: string): Promise<LabSnapshot> {
  return extractSnapshotFile(join(fixturesDir(), `${name}.tar.gz`));
}

/** Any snapshot tarball laid out as sys/, proc/, oracle/. */
export async function extractSnapshotFile(tarball: string): Promise<LabSnapshot> {
  if (!existsSync(tarball)) throw new Error(`snapshot missing: ${tarball}`);
  const label = basename(tarball).replace(/\.tar\.gz$/, '').replace(/[^A-Za-z0-9._-]/g, '_');
  const dir = mkdtempSync(join(scratchDir(), `hotslot-lab-${label}-`));
  await run('tar', ['-xzf', tarball, '-C', dir]);
  return {
    dir,
    sysfsRoot: join(dir, 'sys'),
    procRoot: join(dir, 'proc'),
    oracleDir: join(dir, 'oracle'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Every entry under `dir`, one line each, sorted: path, kind, mode, and for a file its size,
 * modification time and content hash (when readable), for a link its target.
 */
export function treeListing(dir: string): string[] {
  const lines: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const st = lstatSync(full);
      const rel = relative(dir, full);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) {
        lines.push(`${rel} link ${mode} -> ${readlinkSync(full)}`);
      } else if (st.isDirectory()) {
        lines.push(`${rel} dir ${mode}`);
        walk(full);
      } else {
        let hash = 'unreadable';
        try {
          hash = createHash('sha1').update(readFileSync(full)).digest('hex');
        } catch {
          // write-only attribute for a non-root reader: size and mtime still show a write
        }
        lines.push(`${rel} file ${mode} ${st.size} ${st.mtimeMs} ${hash}`);
      }
    }
  };
  walk(dir);
  return lines.sort();
}
