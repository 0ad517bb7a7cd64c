/**
 * What a snapshot holds: directories, files with their bytes, and symlinks with their text, each
 * at its path inside the tarball (`sys/...`, `proc/...`), and the manifest that lists them.
 */

export interface DirEntry {
  kind: 'dir';
  path: string;
  mode: number;
  /**
   * Empty when copied; `partial` when only what other parts lead to is there; `not-recursed`
   * (its files and links are left out), `placeholder` (a link's target, kept empty) or
   * `list-error:ECODE`.
   */
  note: string;
}

export interface FileEntry {
  kind: 'file';
  path: string;
  mode: number;
  data: Buffer;
  /** The size the kernel reported (4096 for most sysfs attributes, a BAR's length for `resourceN`). */
  kernelSize: number;
  /** Empty when read whole; else why the bytes are missing or cut: `write-only`, `not-read(bar/rom)`, `read-error:EINVAL`, `truncated`, `from /proc/...`. */
  note: string;
}

export interface LinkEntry {
  kind: 'link';
  path: string;
  /** The link's text, exactly as the kernel shows it (relative). */
  target: string;
}

export type SnapshotEntry = DirEntry | FileEntry | LinkEntry;

export interface SnapshotCounts {
  files: number;
  links: number;
  dirs: number;
  /** Bytes of file contents. */
  bytes: number;
  /** How many files carry each kind of note (`write-only`, `read-error:EINVAL`, ...). */
  notes: Record<string, number>;
}

export function countEntries(entries: Iterable<SnapshotEntry>): SnapshotCounts {
  const counts: SnapshotCounts = { files: 0, links: 0, dirs: 0, bytes: 0, notes: {} };
  for (const e of entries) {
    if (e.kind === 'dir') counts.dirs++;
    else if (e.kind === 'link') counts.links++;
    else {
      counts.files++;
      counts.bytes += e.data.length;
      const kind = e.note.split(' ')[0];
      if (kind !== '' && kind !== 'from') counts.notes[kind] = (counts.notes[kind] ?? 0) + 1;
    }
  }
  return counts;
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/**
 * `oracle/manifest.tsv`, in the columns of the lab corpus's manifests so that one reader serves
 * both: path, type (d, f, l), mode, the size the kernel reported, the bytes kept, and the note
 * (for a link, its target).
 */
export function manifestTsv(entries: Iterable<SnapshotEntry>): string {
  const rows = ['path\ttype\tmode\tkernel_st_size\tbytes\tnote_or_link_target'];
  for (const e of entries) {
    if (e.kind === 'dir') rows.push(`${e.path}\td\t${octal(e.mode)}\t\t\t${e.note}`);
    else if (e.kind === 'link') rows.push(`${e.path}\tl\t\t\t\t${e.target}`);
    else rows.push(`${e.path}\tf\t${octal(e.mode)}\t${e.kernelSize}\t${e.data.length}\t${e.note}`);
  }
  return rows.join('\n') + '\n';
}
