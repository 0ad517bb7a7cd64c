import { closeSync, fsync, fsyncSync, linkSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync, mkdirSync, existsSync, chmodSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OperationKind } from '../core/operations.js';

/**
 * The hotplug journal: JSON Lines, append-only, mode 0600. Before a device is touched it holds
 * what is needed to put it back (its original driver and driver_override); `recover` reads the
 * entries that have no end and finishes or undoes them.
 */

export interface DeviceOrigin {
  bdf: string;
  /** The host driver bound before hotslot touched it, or null if none was. */
  driver: string | null;
  /** `driver_override` before hotslot touched it, or null if unset. */
  driverOverride: string | null;
  /**
   * Nothing says what it was (it went to a guest by other hands than hotslot's): coming home, it
   * takes whatever driver the kernel picks.
   */
  unknown?: true;
}

export type JournalRecord =
  | {
      kind: 'intent';
      opId: string;
      at: string;
      op: OperationKind;
      devices: DeviceOrigin[];
      /** The guest the devices go to (attach, move). */
      guest?: string;
      /** The guest the devices come from (detach, move). */
      fromGuest?: string;
      /** QMP sockets, so that `recover` can ask the guests even when started without --guest. */
      guestSocket?: string;
      fromGuestSocket?: string;
      qdevIds?: Record<string, string>;
    }
  | { kind: 'step'; opId: string; at: string; step: string; bdf?: string; detail?: string }
  | { kind: 'end'; opId: string; at: string; outcome: 'done' | 'undone' | 'stuck' | 'recovered'; message?: string }
  /** What a compacted journal carries over from the records it dropped: each device's origin. */
  | { kind: 'origins'; at: string; devices: DeviceOrigin[] };

export type IntentRecord = Extract<JournalRecord, { kind: 'intent' }>;

export interface OpenOperation {
  intent: IntentRecord;
  steps: Extract<JournalRecord, { kind: 'step' }>[];
}

export class JournalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalError';
  }
}

/**
 * For tests only: `HOTSLOT_TEST_CRASH_AFTER_RECORD=N` makes the process kill itself with SIGKILL
 * right after it appends its Nth record, so that the crash test can stop an operation
 * after each journalled step in turn (test/integration/hotplug-crash-every-step.test.ts). Unset in
 * any real use; nothing else reads it.
 */
const crashAfterRecord = Number(process.env.HOTSLOT_TEST_CRASH_AFTER_RECORD ?? 0);
let recordsAppended = 0;

/** What the records read so far say: the open operations and each device's latest known origin. */
interface Index {
  /** The file this was read from, and how far: the byte after the last whole line. */
  ino: bigint;
  offset: number;
  lines: number;
  /** The last bytes read, to notice a file rewritten in place. */
  seam: Buffer;
  open: Map<string, OpenOperation>;
  origins: Map<string, DeviceOrigin>;
}

const emptyIndex = (ino: bigint): Index => ({ ino, offset: 0, lines: 0, seam: Buffer.alloc(0), open: new Map(), origins: new Map() });

const SEAM = 64;

function readAt(fd: number, position: number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, bytes, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return bytes.subarray(0, got);
}

/** Past this size, a journal with no operation open starts over (see `compact`). */
export const COMPACT_ABOVE_BYTES = 1 << 20;

export class Journal {
  readonly path: string;
  /** The journal as it was before the last compaction, for the operator to read. */
  readonly previousPath: string;
  private dirReady = false;
  private readonly syncing = new Set<Promise<void>>();
  private syncFailure: NodeJS.ErrnoException | null = null;
  /** Kept up to date by reading only what was appended since, by this process or another. */
  private index: Index = emptyIndex(-1n);

  constructor(
    stateDir: string,
    private readonly compactAboveBytes = COMPACT_ABOVE_BYTES,
  ) {
    this.path = join(stateDir, 'journal.jsonl');
    this.previousPath = join(stateDir, 'journal.1.jsonl');
  }

  /**
   * Every record is written (one write(2), into the page cache) before the change it announces,
   * so a process killed at any point leaves a journal that says what it was doing. An intent is
   * also fsync'd, in the background: `durable()` waits for it, and an operation does before it
   * reports its outcome. Disk durability only matters across a power cut or a kernel crash, and
   * the reboot after one undoes every unbind, override and vfio-pci bind anyway; waiting for the
   * disk before the first change would add its latency (0.3 to 1.5 ms here, per intent) to every
   * operation for no device's sake. Steps and ends ride on the next fsync.
   */
  append(record: JournalRecord): void {
    if (!this.dirReady) {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      this.dirReady = true;
    }
    const fresh = !existsSync(this.path);
    const fd = openSync(this.path, 'a', 0o600);
    let closeLater = false;
    try {
      writeSync(fd, JSON.stringify(record) + '\n');
      if (record.kind === 'intent') {
        this.syncInBackground(fd);
        closeLater = true;
      }
    } finally {
      if (!closeLater) closeSync(fd);
    }
    if (fresh) chmodSync(this.path, 0o600);
    if (crashAfterRecord > 0 && ++recordsAppended === crashAfterRecord) process.kill(process.pid, 'SIGKILL');
    if (record.kind === 'end') this.compactIfLarge();
  }

  /**
   * Keeps every command's first read of the journal short. Once the file passes its size limit
   * and no operation is open, it starts over with one record: the origin of every device it
   * knows (all that a later detach or return needs of the past). The old file stays beside it as
   * journal.1.jsonl, replacing the one before. The new file takes the old one's place in a single
   * rename, so a crash at any moment leaves one whole journal.
   */
  private compactIfLarge(): void {
    const st = statSync(this.path, { throwIfNoEntry: false });
    if (st === undefined || st.size <= this.compactAboveBytes) return;
    const index = this.refresh();
    if (index.open.size > 0) return;
    const next = `${this.path}.next`;
    const origins: JournalRecord = { kind: 'origins', at: new Date().toISOString(), devices: [...index.origins.values()] };
    const fd = openSync(next, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(origins) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    rmSync(this.previousPath, { force: true });
    linkSync(this.path, this.previousPath);
    renameSync(next, this.path);
  }

  private syncInBackground(fd: number): void {
    const done = new Promise<void>((resolve) => {
      fsync(fd, (err) => {
        closeSync(fd);
        if (err) this.syncFailure ??= err;
        resolve();
      });
    });
    this.syncing.add(done);
    void done.then(() => this.syncing.delete(done));
  }

  /** Resolves once every intent appended so far is on disk; rejects if an fsync failed. */
  async durable(): Promise<void> {
    await Promise.all([...this.syncing]);
    const failure = this.syncFailure;
    this.syncFailure = null;
    if (failure) throw new JournalError(`journal ${this.path} could not be written to disk: ${failure.message}`);
  }

  /** Every record, in order. A torn last record (no newline: a crash mid-write) is ignored; any other bad line is an error. */
  read(): JournalRecord[] {
    if (!existsSync(this.path)) return [];
    return this.parse(readFileSync(this.path, 'utf8'), 0, true);
  }

  /**
   * The records in `text` (lines from line `firstLine` on). A line that is not JSON is an error,
   * unless `atEnd` and it is the text after the last newline: a record torn by a crash mid-write.
   */
  private parse(text: string, firstLine: number, atEnd: boolean): JournalRecord[] {
    const lines = text.split('\n');
    const records: JournalRecord[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        records.push(JSON.parse(line) as JournalRecord);
      } catch {
        const isLast = atEnd && i === lines.length - 1;
        if (!isLast) throw new JournalError(`journal ${this.path} line ${firstLine + i + 1} is not JSON; fix or move the file aside`);
      }
    });
    return records;
  }

  /**
   * Reads what was appended since the last call, by this process or another. It starts over when
   * the file was replaced, cut or rewritten in place (the last bytes it read are no longer there).
   */
  private refresh(): Index {
    const st = statSync(this.path, { bigint: true, throwIfNoEntry: false });
    if (st === undefined) return (this.index = emptyIndex(-1n));
    const size = Number(st.size);
    if (st.ino !== this.index.ino || size < this.index.offset) this.index = emptyIndex(st.ino);
    const fd = openSync(this.path, 'r');
    try {
      let index = this.index;
      if (index.seam.length > 0 && !readAt(fd, index.offset - index.seam.length, index.seam.length).equals(index.seam)) {
        index = this.index = emptyIndex(st.ino);
      }
      if (size === index.offset) return index;
      const bytes = readAt(fd, index.offset, size - index.offset);
      // Only whole lines: a record being written now is read once it is complete, and one that
      // never gets its newline is a torn last record, ignored as read() ignores it.
      const end = bytes.lastIndexOf(0x0a) + 1;
      if (end === 0) return index;
      const whole = bytes.subarray(0, end).toString('utf8');
      for (const r of this.parse(whole, index.lines, false)) this.apply(index, r);
      index.offset += end;
      index.lines += whole.split('\n').length - 1;
      index.seam = Buffer.from(bytes.subarray(Math.max(0, end - SEAM), end));
      return index;
    } finally {
      closeSync(fd);
    }
  }

  private apply(index: Index, r: JournalRecord): void {
    if (r.kind === 'intent') {
      index.open.set(r.opId, { intent: r, steps: [] });
      for (const o of r.devices) if (o.driver !== 'vfio-pci' && !o.unknown) index.origins.set(o.bdf, o);
    } else if (r.kind === 'origins') {
      for (const o of r.devices) if (o.driver !== 'vfio-pci' && !o.unknown) index.origins.set(o.bdf, o);
    } else if (r.kind === 'step') index.open.get(r.opId)?.steps.push(r);
    // A stuck operation stays open: `recover` must still bring its devices to a settled place.
    else if (r.outcome !== 'stuck') index.open.delete(r.opId);
  }

  /** Operations that began and never ended (or ended stuck), oldest first. */
  open(): OpenOperation[] {
    return [...this.refresh().open.values()].map((o) => ({ intent: o.intent, steps: [...o.steps] }));
  }

  /** The newest journalled origin of a device that names a host driver (not vfio-pci), if any. */
  originOf(bdf: string): DeviceOrigin | null {
    return this.refresh().origins.get(bdf) ?? null;
  }
}
