import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { HotslotEvent } from '../core/events.js';
import type { OperationKind, OperationOutcome, StepStatus } from '../core/operations.js';
import { errorText, StepFailedError } from './errors.js';
import type { Journal, JournalRecord } from './journal.js';

export interface StepReport {
  step: string;
  bdf?: string;
  status: StepStatus;
  ms: number;
  detail?: string;
}

/**
 * One operation while it runs: each named step is journalled, timed and reported as an event;
 * each step that changed something leaves an undo, and `rollback` runs them newest first.
 */
export class OperationRun {
  readonly opId = randomUUID();
  readonly steps: StepReport[] = [];
  private readonly undos: { step: string; bdf?: string; undo: () => Promise<void> }[] = [];

  constructor(
    readonly op: OperationKind,
    private readonly journal: Journal | null,
    private readonly clock: Clock,
    private readonly emit: (e: HotslotEvent) => void,
  ) {}

  record(r: Omit<Extract<JournalRecord, { kind: 'intent' }>, 'kind' | 'opId' | 'at' | 'op'>): void {
    this.journal?.append({ kind: 'intent', opId: this.opId, at: new Date(this.clock.wallNow()).toISOString(), op: this.op, ...r });
  }

  started(bdfs: string[], guest?: string, fromGuest?: string): void {
    this.emit({
      type: 'op.started',
      at: this.clock.now(),
      opId: this.opId,
      op: this.op,
      bdfs,
      ...(guest !== undefined ? { guest } : {}),
      ...(fromGuest !== undefined ? { fromGuest } : {}),
    });
  }

  /** Runs one step; a failure is raised as StepFailedError naming the step (the caller decides to roll back). */
  async step(name: string, bdf: string | undefined, fn: () => Promise<string | void>, undo?: () => Promise<void>): Promise<string | undefined> {
    const t0 = this.clock.now();
    const at = () => this.clock.now();
    const b = bdf !== undefined ? { bdf } : {};
    this.emit({ type: 'op.step', at: t0, opId: this.opId, step: name, ...b, status: 'running' });
    this.journal?.append({ kind: 'step', opId: this.opId, at: new Date(this.clock.wallNow()).toISOString(), step: name, ...b });
    try {
      const detail = (await fn()) ?? undefined;
      const ms = Math.round(at() - t0);
      this.steps.push({ step: name, ...b, status: 'ok', ms, ...(detail ? { detail } : {}) });
      this.emit({ type: 'op.step', at: at(), opId: this.opId, step: name, ...b, status: 'ok', ms, ...(detail ? { detail } : {}) });
      if (undo) this.undos.push({ step: name, ...b, undo });
      return detail;
    } catch (err) {
      const ms = Math.round(at() - t0);
      this.steps.push({ step: name, ...b, status: 'failed', ms, detail: errorText(err) });
      this.emit({ type: 'op.step', at: at(), opId: this.opId, step: name, ...b, status: 'failed', ms, detail: errorText(err) });
      throw err instanceof StepFailedError ? err : new StepFailedError(name, bdf, err);
    }
  }

  /** A step that failed without stopping the operation (a reset after the guest let go). */
  note(name: string, bdf: string | undefined, status: StepStatus, detail: string): void {
    const b = bdf !== undefined ? { bdf } : {};
    this.steps.push({ step: name, ...b, status, ms: 0, detail });
    this.emit({ type: 'op.step', at: this.clock.now(), opId: this.opId, step: name, ...b, status, ms: 0, detail });
  }

  /** Undoes every step that changed something, newest first; returns what could not be undone. */
  async rollback(): Promise<string[]> {
    const failures: string[] = [];
    while (this.undos.length > 0) {
      const u = this.undos.pop()!;
      const t0 = this.clock.now();
      const b = u.bdf !== undefined ? { bdf: u.bdf } : {};
      try {
        await u.undo();
        const ms = Math.round(this.clock.now() - t0);
        this.steps.push({ step: u.step, ...b, status: 'undone', ms });
        this.emit({ type: 'op.step', at: this.clock.now(), opId: this.opId, step: u.step, ...b, status: 'undone', ms });
      } catch (err) {
        const text = `undo of ${u.step}${u.bdf ? ` on ${u.bdf}` : ''} failed: ${errorText(err)}`;
        failures.push(text);
        this.steps.push({ step: `undo ${u.step}`, ...b, status: 'failed', ms: Math.round(this.clock.now() - t0), detail: text });
        // Each undo assumes the newer ones worked (a host driver must not bind while a guest may
        // still hold the device), so the rest stay as they are for `recover` to settle.
        for (const rest of this.undos.reverse()) {
          this.steps.push({ step: `undo ${rest.step}`, ...(rest.bdf !== undefined ? { bdf: rest.bdf } : {}), status: 'skipped', ms: 0, detail: 'not undone: a later undo failed' });
        }
        this.undos.length = 0;
      }
    }
    return failures;
  }

  /** Forgets the undos: the operation reached a state it keeps. */
  commit(): void {
    this.undos.length = 0;
  }

  finish(outcome: OperationOutcome, message: string): void {
    this.journal?.append({
      kind: 'end',
      opId: this.opId,
      at: new Date(this.clock.wallNow()).toISOString(),
      outcome: outcome === 'done' ? 'done' : outcome === 'stuck' ? 'stuck' : 'undone',
      message,
    });
    this.emit({ type: 'op.finished', at: this.clock.now(), opId: this.opId, outcome, message });
  }
}
