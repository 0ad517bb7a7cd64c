import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import type { Clock } from '../core/clock.js';
import type { HotslotEvent } from '../core/events.js';
import { SCHEMA_VERSION, type RecordingHeader } from './format.js';

export interface RecorderOptions {
  path: string;
  clock: Clock;
  header: Omit<RecordingHeader, 'kind' | 'schema'>;
  /** Past this size the file is rotated to PATH.1 (older ones shift up) and a new one starts. */
  maxBytes?: number;
  keep?: number;
}

/**
 * Writes every event of a session to a JSON Lines file (mode 0600). Before a step that changes the
 * host or a guest starts, the file is flushed to disk, so a crash never loses what led up to it.
 */
export class Recorder {
  private fd: number;
  private seq = 0;
  private bytes = 0;
  private readonly t0: number;
  private sub: Subscription | null = null;

  constructor(private readonly opts: RecorderOptions) {
    mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
    this.t0 = opts.clock.now();
    this.fd = this.open();
  }

  private open(): number {
    const fd = openSync(this.opts.path, 'w', 0o600);
    const header: RecordingHeader = { kind: 'hotslot-session', schema: SCHEMA_VERSION, ...this.opts.header };
    const line = JSON.stringify(header) + '\n';
    writeSync(fd, line);
    this.bytes = Buffer.byteLength(line);
    return fd;
  }

  attach(events$: Observable<HotslotEvent>): this {
    this.sub = events$.subscribe((e) => this.write(e));
    return this;
  }

  write(event: HotslotEvent): void {
    const line =
      JSON.stringify({ seq: this.seq++, t: Math.round((this.opts.clock.now() - this.t0) * 1000) / 1000, wall: new Date(this.opts.clock.wallNow()).toISOString(), event }) + '\n';
    if (this.opts.maxBytes && this.bytes + line.length > this.opts.maxBytes && this.bytes > 0) this.rotate();
    writeSync(this.fd, line);
    this.bytes += Buffer.byteLength(line);
    if (event.type === 'op.step' && event.status === 'running') fsyncSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    const keep = this.opts.keep ?? 3;
    for (let i = keep - 1; i >= 1; i--) {
      try {
        statSync(`${this.opts.path}.${i}`);
        renameSync(`${this.opts.path}.${i}`, `${this.opts.path}.${i + 1}`);
      } catch {
        // no such generation yet
      }
    }
    renameSync(this.opts.path, `${this.opts.path}.1`);
    this.fd = this.open();
  }

  close(): void {
    this.sub?.unsubscribe();
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}
