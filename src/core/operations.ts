/** Operations as the core sees them: what the executor reports, what the views show. */

export type OperationKind = 'attach' | 'detach' | 'move' | 'return' | 'park' | 'recover' | 'vfs';

export type StepStatus = 'running' | 'ok' | 'failed' | 'undone' | 'skipped';

/** done: finished; failed: failed and was put back; refused: a safety check said no; stuck: a guest would not let go. */
export type OperationOutcome = 'done' | 'failed' | 'refused' | 'stuck';

export interface OperationStep {
  step: string;
  bdf?: string;
  status: StepStatus;
  startedAt: number;
  ms: number | null;
  detail?: string;
}

export interface Operation {
  opId: string;
  op: OperationKind;
  bdfs: string[];
  guest?: string;
  fromGuest?: string;
  startedAt: number;
  steps: OperationStep[];
  outcome: OperationOutcome | null;
  message: string | null;
  finishedAt: number | null;
}

/** What the operator asks for; the dashboard and the CLI send these, the hotplug layer carries them out. */
export type Intent =
  | { kind: 'attach'; bdf: string; guest: string; group?: boolean }
  | { kind: 'detach'; bdf: string }
  | { kind: 'move'; bdf: string; guest: string }
  | { kind: 'return'; bdf: string }
  | { kind: 'recover' }
  | { kind: 'retry'; bdf: string }
  | { kind: 'force-return'; bdf: string };
