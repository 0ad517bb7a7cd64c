import { closeSync, fsyncSync, openSync, readFileSync, writeSync, mkdirSync, existsSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OperationKind } from '../core/operations.js';

/**
 * The hotplug journal: JSON Lines, append-only, fsync'd after every record, mode 0600. Before a
 * device is touched it holds what is needed to put it back (its original driver and
 * driver_override); `recover` reads the entries that have no end and finishes or undoes them.
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
  | { kind: 'end'; opId: string; at: string; outcome: 'done' | 'undone' | 'stuck' | 'recovered'; message?: string };

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
 * right after the Nth record it appends is on disk, so that the crash test can stop an operation
 * after each journalled step in turn (test/integration/hotplug-crash-every-step.test.ts). Unset in
 * any real use; nothing else reads it.
 */
const crashAfterRecord = Number(process.env.HOTSLOT_TEST_CRASH_AFTER_RECORD ?? 0);
let recordsAppended = 0;

export class Journal {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'journal.jsonl');
  }

  append(record: JournalRecord): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const fresh = !existsSync(this.path);
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, JSON.stringify(record) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (fresh) chmodSync(this.path, 0o600);
    if (crashAfterRecord > 0 && ++recordsAppended === crashAfterRecord) process.kill(process.pid, 'SIGKILL');
  }

  /** Every record, in order. A torn last line (a crash mid-write) is ignored; any other bad line is an error. */
  read(): JournalRecord[] {
    if (!existsSync(this.path)) return [];
    const lines = readFileSync(this.path, 'utf8').split('\n');
    const records: JournalRecord[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        records.push(JSON.parse(line) as JournalRecord);
      } catch {
        const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
        if (!isLast) throw new JournalError(`journal ${this.path} line ${i + 1} is not JSON; fix or move the file aside`);
      }
    });
    return records;
  }

  /** Operations that began and never ended (or ended stuck), oldest first. */
  open(): OpenOperation[] {
    const ops = new Map<string, OpenOperation>();
    for (const r of this.read()) {
      if (r.kind === 'intent') ops.set(r.opId, { intent: r, steps: [] });
      else if (r.kind === 'step') ops.get(r.opId)?.steps.push(r);
      // A stuck operation stays open: `recover` must still bring its devices to a settled place.
      else if (r.outcome !== 'stuck') ops.delete(r.opId);
    }
    return [...ops.values()];
  }
}
