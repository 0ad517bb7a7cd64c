/**
 * Writes snapshot entries as a .tar.gz without staging a tree on disk: tar-stream packs each
 * entry from memory, so a write-only attribute keeps its mode (0200) without anyone having to
 * open it, and symlinks go in as their text.
 *
 * The tarball is written to a hidden temporary file beside the target and put in place only when
 * complete: an existing file is never replaced unless asked (a hard link fails where a file
 * appeared meanwhile), and a failure leaves nothing behind.
 */
import { closeSync, createWriteStream, linkSync, lstatSync, openSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { SnapshotEntry } from './entries.js';

export type OutputProblem = 'exists' | 'is-directory' | 'not-writable';

export class OutputError extends Error {
  constructor(
    readonly problem: OutputProblem,
    message: string,
  ) {
    super(message);
    this.name = 'OutputError';
  }
}

/**
 * The temporary file of one tarball, opened before anything is read so that an unwritable
 * directory is known at once. Snapshots may hold root-only attributes (VPD serial numbers, full
 * configuration spaces), so the file is created 0600, as journals and recordings are.
 */
export class PendingTarball {
  readonly tempPath: string;
  private fd: number | null;
  private done = false;

  private constructor(
    readonly path: string,
    private readonly force: boolean,
  ) {
    this.tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
    try {
      this.fd = openSync(this.tempPath, 'wx', 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      const why = code === 'ENOENT' ? `${dirname(path)} does not exist` : `cannot write in ${dirname(path)} (${code})`;
      throw new OutputError('not-writable', `${why}; nothing written`);
    }
  }

  /** Refuses an existing target (unless `force`) or a directory, then opens the temporary file. */
  static open(path: string, force: boolean): PendingTarball {
    const existing = lstatOrNull(path);
    if (existing?.isDirectory() || (existing?.isSymbolicLink() && statOrNull(path)?.isDirectory())) {
      throw new OutputError('is-directory', `${path} is a directory; give -o a file name`);
    }
    if (existing && !force) throw new OutputError('exists', `${path} exists; use --force to replace it`);
    return new PendingTarball(path, force);
  }

  /** Packs `entries` (gzip) into the temporary file; returns its size in bytes. */
  async write(entries: Iterable<SnapshotEntry>, mtime: Date): Promise<number> {
    if (this.fd === null) throw new Error('tarball already written');
    const pack = tar.pack();
    const out = createWriteStream('', { fd: this.fd, autoClose: true });
    this.fd = null;
    const piping = pipeline(pack, createGzip({ level: 9 }), out);
    const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime };
    for (const e of entries) {
      if (e.kind === 'dir') pack.entry({ ...owner, name: e.path, type: 'directory', mode: e.mode });
      else if (e.kind === 'link') pack.entry({ ...owner, name: e.path, type: 'symlink', linkname: e.target, mode: 0o777 });
      else pack.entry({ ...owner, name: e.path, type: 'file', mode: e.mode, size: e.data.length }, e.data);
    }
    pack.finalize();
    await piping;
    return statSync(this.tempPath).size;
  }

  /** Puts the tarball in place: a hard link that fails if the target appeared, or a rename with `force`. */
  commit(): void {
    if (this.force) {
      renameSync(this.tempPath, this.path);
    } else {
      try {
        linkSync(this.tempPath, this.path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new OutputError('exists', `${this.path} appeared while the snapshot was taken; nothing replaced`);
        // Filesystems without hard links: check again, then rename.
        if (lstatOrNull(this.path)) throw new OutputError('exists', `${this.path} exists; use --force to replace it`);
        renameSync(this.tempPath, this.path);
        this.done = true;
        return;
      }
      unlinkSync(this.tempPath);
    }
    this.done = true;
  }

  /** Removes the temporary file; safe to call at any point, also after `commit`. */
  discard(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    if (this.done) return;
    this.done = true;
    try {
      unlinkSync(this.tempPath);
    } catch {
      // already gone
    }
  }
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

function statOrNull(p: string) {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}
