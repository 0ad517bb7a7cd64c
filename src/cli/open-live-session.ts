import { readFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { merge } from 'rxjs';
import { systemClock } from '../core/clock.js';
import type { GuestSpec } from '../guests/guest-specs.js';
import type { HostSources } from '../host/inventory.js';
import { acquireHostLock } from '../hotplug/host-lock.js';
import type { RecoveryResult } from '../hotplug/hotplug.js';
import { Journal } from '../hotplug/journal.js';
import { openKernel, type KernelPort } from '../kernel/index.js';
import { LiveSession } from '../live/live-session.js';
import { Recorder } from '../record/recorder.js';
import { hostSources } from './commands/list.js';
import type { GlobalOptions } from './context.js';
import { usageError } from './exit-codes.js';
import { guestSpecs, journalGuestSockets, stateDirOf } from './hotplug-session.js';
import { VERSION } from './version.js';

/**
 * The live session the long-running commands share (the dashboard, `watch`): the host watcher,
 * a monitor per guest and the hotplug layer on one bus, recorded from its first event, with the
 * journal recovered once every guest has answered (or failed to).
 */

/** `$XDG_STATE_HOME/hotslot/sessions/2026-11-21T08-55-00.jsonl`. */
export function defaultRecordPath(): string {
  const base = process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state');
  return join(base, 'hotslot', 'sessions', `${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
}

/** `--record FILE` / `--no-record` / neither (the default path). */
export function recordPathOf(record: string | boolean | undefined): string | null {
  return record === false ? null : typeof record === 'string' ? record : defaultRecordPath();
}

/** A line of procfs, or null when the tree has no such file (snapshots keep only a few). */
export function procLine(procRoot: string, rel: string): string | null {
  try {
    return readFileSync(join(procRoot, rel), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** The host's name as its procfs says (a snapshot's own), else this machine's. */
export function hostLabel(g: GlobalOptions): string {
  return procLine(g.procRoot, 'sys/kernel/hostname') ?? (g.procRoot === '/proc' ? hostname() : 'snapshot');
}

/** What a live session watches and writes through. */
export interface LiveTarget {
  sources: HostSources;
  /** Null in read-only mode. */
  kernel: KernelPort | null;
  stateDir: string;
  guests: GuestSpec[];
}

/**
 * The target from the global CLI options. A session that may write also follows the guests that
 * unfinished journal entries name, so that recovery asks them before it moves their devices.
 */
export function liveTargetFrom(g: GlobalOptions, opts: { readOnly: boolean }): LiveTarget {
  const stateDir = stateDirOf(g);
  const sources = hostSources(g);
  if (opts.readOnly) return { sources, kernel: null, stateDir, guests: guestSpecs(g) };
  let kernel: KernelPort;
  try {
    kernel = openKernel({ kind: g.kernel, sysfsRoot: g.sysfsRoot });
  } catch (err) {
    // The simulator refuses a root that is not a sysfs tree (or is the real /sys).
    throw usageError(err instanceof Error ? err.message : String(err));
  }
  return { sources, kernel, stateDir, guests: guestSpecs(g, journalGuestSockets(new Journal(stateDir))) };
}

export interface OpenLiveSessionOptions extends LiveTarget {
  readOnly: boolean;
  /** Give a guest's devices back to the host when its QEMU exits (default on). */
  returnOnExit?: boolean;
  countInterrupts?: boolean;
  /** Where the session is recorded; null: not recorded. */
  recordPath: string | null;
  /** For the recording's header. */
  host: string;
  terminal?: { cols: number; rows: number } | null;
}

export interface OpenedLiveSession {
  session: LiveSession;
  /**
   * Starts the sources (subscribe to the bus first); unless read-only, then recovers the journal
   * once every guest has answered. Resolves with what recovery did.
   */
  start(): Promise<RecoveryResult[]>;
  /** Lets a running operation finish, closes the QMP connections and flushes the recording. */
  close(): Promise<void>;
  /** Why the recording stopped early (a full disk), or null. */
  readonly recordingFailure: string | null;
}

export function openLiveSession(opts: OpenLiveSessionOptions): OpenedLiveSession {
  let recorder: Recorder | null = null;
  const session = new LiveSession({
    sources: opts.sources,
    kernel: opts.readOnly ? null : opts.kernel,
    journal: opts.readOnly ? null : new Journal(opts.stateDir),
    guests: opts.guests,
    clock: systemClock,
    ...(opts.returnOnExit !== undefined ? { returnOnExit: opts.returnOnExit } : {}),
    ...(opts.countInterrupts !== undefined ? { countInterrupts: opts.countInterrupts } : {}),
    ...(opts.readOnly ? {} : { lockHost: () => acquireHostLock(opts.stateDir) }),
    // What led up to a change is on disk before the change begins.
    beforeChange: () => recorder?.flush(),
  });
  if (opts.recordPath) {
    try {
      recorder = new Recorder({
        path: opts.recordPath,
        clock: systemClock,
        header: {
          hotslotVersion: VERSION,
          host: opts.host,
          user: userInfo().username,
          startedAt: new Date().toISOString(),
          terminal: opts.terminal ?? null,
        },
        maxBytes: 64 << 20,
      }).attach(merge(session.bus.events$, session.bus.notes$));
    } catch (err) {
      throw usageError(`cannot record the session to ${opts.recordPath}: ${(err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))}`);
    }
  }
  let closed: Promise<void> | null = null;
  return {
    session,
    async start() {
      session.start();
      if (opts.readOnly) return [];
      await session.firstContact();
      return session.recover();
    },
    close() {
      closed ??= session.close().finally(() => recorder?.close());
      return closed;
    },
    get recordingFailure() {
      return recorder?.failure ?? null;
    },
  };
}
