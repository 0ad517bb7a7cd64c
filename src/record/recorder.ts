import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import type { Clock } from '../core/clock.js';
import { changesState, type SessionRecord } from '../core/events.js';
import { reduce } from '../core/reducer.js';
import { initialState, type HotslotState } from '../core/state.js';
import { SCHEMA_VERSION, type RecordingHeader } from './format.js';

export interface RecorderOptions {
  path: string;
  clock: Clock;
  header: Omit<RecordingHeader, 'kind' | 'schema' | 'continued'>;
  /** Past this size the file is rotated to PATH.1 (older ones shift up) and a new one starts. */
  maxBytes?: number;
  keep?: number;
}

/**
 * Writes every event and note of a session to a JSON Lines file (mode 0600). `flush` puts what
 * was written on disk; the live session calls it before each step that changes the host or a
 * guest, so that a crash in that step loses nothing that led up to it.
 *
 * It keeps the session's state itself (the same reducer), so that a file started by a rotation
 * says in its header where the session stood, and replays on its own.
 *
 * A recording that cannot be written (a full disk) stops, and says why in `failure`: it never
 * stops the operator's session.
 */
export class Recorder {
  private fd: number | null = null;
  private seq = 0;
  private bytes = 0;
  private headerBytes = 0;
  private dirty = false;
  private state: HotslotState = initialState;
  private readonly t0: number;
  private sub: Subscription | null = null;
  private failed: string | null = null;

  constructor(private readonly opts: RecorderOptions) {
    mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
    this.t0 = opts.clock.now();
    this.fd = this.open();
  }

  /** Why the recording stopped early, or null. */
  get failure(): string | null {
    return this.failed;
  }

  private open(): number {
    const fd = openSync(this.opts.path, 'w', 0o600);
    const continued = this.seq > 0 ? { continued: { seq: this.seq, state: this.state } } : {};
    const header: RecordingHeader = { kind: 'hotslot-session', schema: SCHEMA_VERSION, ...this.opts.header, ...continued };
    const line = JSON.stringify(header) + '\n';
    writeSync(fd, line);
    this.bytes = this.headerBytes = Buffer.byteLength(line);
    return fd;
  }

  /** Records everything `records$` emits until `close`. */
  attach(records$: Observable<SessionRecord>): this {
    this.sub = records$.subscribe((r) => this.write(r));
    return this;
  }

  write(record: SessionRecord): void {
    if (this.fd === null) return;
    const line =
      JSON.stringify({ seq: this.seq, t: Math.round((this.opts.clock.now() - this.t0) * 1000) / 1000, wall: new Date(this.opts.clock.wallNow()).toISOString(), event: record }) + '\n';
    const size = Buffer.byteLength(line);
    try {
      // A file holds at least one event, however large its header (the state) has grown.
      if (this.opts.maxBytes && this.bytes + size > this.opts.maxBytes && this.bytes > this.headerBytes) this.rotate();
      writeSync(this.fd, line);
    } catch (err) {
      this.stop(err);
      return;
    }
    this.seq++;
    this.bytes += size;
    this.dirty = true;
    if (changesState(record)) this.state = reduce(this.state, record);
  }

  /** Puts everything written so far on disk (fsync); nothing to do when nothing was written since. */
  flush(): void {
    if (this.fd === null || !this.dirty) return;
    try {
      fsyncSync(this.fd);
      this.dirty = false;
    } catch (err) {
      this.stop(err);
    }
  }

  private rotate(): void {
    fsyncSync(this.fd!);
    closeSync(this.fd!);
    this.fd = null;
    const keep = this.opts.keep ?? 3;
    for (let i = keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.opts.path}.${i}`, `${this.opts.path}.${i + 1}`);
      } catch {
        // no such generation yet
      }
    }
    renameSync(this.opts.path, `${this.opts.path}.1`);
    this.fd = this.open();
  }

  private stop(err: unknown): void {
    this.failed = `recording to ${this.opts.path} stopped: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    this.sub?.unsubscribe();
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already unusable
      }
    }
    this.fd = null;
  }

  close(): void {
    this.sub?.unsubscribe();
    if (this.fd === null) return;
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = null;
  }
}
