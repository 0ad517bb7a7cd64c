import type { Operation, OperationStep } from '../../core/operations.js';

const latestCache = new WeakMap<object, Map<string, Operation>>();

/** The newest operation that touched each BDF (running, finished or stuck). */
export function latestOperationByBdf(operations: Readonly<Record<string, Operation>>): Map<string, Operation> {
  const cached = latestCache.get(operations);
  if (cached) return cached;
  const out = new Map<string, Operation>();
  for (const op of Object.values(operations)) {
    for (const bdf of op.bdfs) {
      const seen = out.get(bdf);
      if (!seen || op.startedAt >= seen.startedAt) out.set(bdf, op);
    }
  }
  latestCache.set(operations, out);
  return out;
}

export function isActive(op: Operation): boolean {
  return op.outcome === null;
}

export function activeOperations(operations: Readonly<Record<string, Operation>>): Operation[] {
  return Object.values(operations)
    .filter(isActive)
    .sort((a, b) => a.startedAt - b.startedAt);
}

/** A device is stuck while the newest operation on it ended stuck (a guest would not let go). */
export function isStuck(op: Operation | undefined): boolean {
  return op !== undefined && op.outcome === 'stuck';
}

/** The step an operation is in: the last one still running, or else the last one reported. */
export function currentStep(op: Operation): OperationStep | null {
  for (let i = op.steps.length - 1; i >= 0; i--) if (op.steps[i].status === 'running') return op.steps[i];
  return op.steps.length > 0 ? op.steps[op.steps.length - 1] : null;
}

export function elapsedMs(op: Operation, now: number): number {
  return Math.max(0, (op.finishedAt ?? now) - op.startedAt);
}

/** `850 ms`, `1.2 s`, `2m05s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A frame that turns with time, so that a running operation visibly lives. */
export function spinnerFrame(frames: readonly string[], elapsed: number): string {
  return frames[Math.floor(elapsed / 125) % frames.length] ?? '';
}

/** `attach 0000:03:00.0 → vm1`, `move 0000:03:00.0 vm1 → vm2`. */
export function operationTitle(op: Pick<Operation, 'op' | 'bdfs' | 'guest' | 'fromGuest'>): string {
  const devices = op.bdfs.join(', ');
  if (op.op === 'move') return `move ${devices} ${op.fromGuest ?? '?'} → ${op.guest ?? '?'}`;
  if (op.guest !== undefined && op.op === 'attach') return `attach ${devices} → ${op.guest}`;
  if (op.op === 'detach') return `detach ${devices}${op.fromGuest ?? op.guest ? ` ← ${op.fromGuest ?? op.guest}` : ''}`;
  return `${op.op}${devices ? ' ' + devices : ''}`;
}

/**
 * What a running operation is doing, for its device's row: `/ 1.2 s unbind`, or with its kind
 * `/ attach 1.2 s unbind`. The time comes before the step so that a narrow column keeps it.
 */
export function operationProgress(op: Operation, now: number, spinner: readonly string[], withKind = true): string {
  const elapsed = elapsedMs(op, now);
  const step = currentStep(op);
  return `${spinnerFrame(spinner, elapsed)} ${withKind ? `${op.op} ` : ''}${formatMs(elapsed)} ${step ? step.step : 'starting'}`;
}
