import type { OperationResult } from '../hotplug/hotplug.js';
import type { RecordedQmp } from '../hotplug/qmp-sender.js';
import type { SysfsWrite } from '../kernel/index.js';
import { printJson } from './context.js';
import type { HotplugSession } from './hotplug-session.js';

const MARK: Record<string, string> = { ok: 'ok  ', failed: 'FAIL', undone: 'undo', skipped: 'skip', running: '... ' };

export interface DryRunPlan {
  writes: SysfsWrite[];
  qmp: RecordedQmp[];
  /** Both, in the order they would happen, as an operator would type them. */
  actions: string[];
}

export function dryRunPlan(session: HotplugSession): DryRunPlan | null {
  if (!session.dryRun) return null;
  const writes = session.writes();
  const actions: string[] = [];
  let q = 0;
  const qmpLine = (m: RecordedQmp) => `qmp ${m.guest}: ${JSON.stringify({ execute: m.execute, ...(m.arguments ? { arguments: m.arguments } : {}) })}`;
  writes.forEach((w, i) => {
    while (q < session.recorded.length && (session.recorded[q].afterWrite ?? 0) <= i) actions.push(qmpLine(session.recorded[q++]));
    actions.push(`echo ${JSON.stringify(w.value.replace(/\n$/, ''))} > ${w.path}`);
  });
  while (q < session.recorded.length) actions.push(qmpLine(session.recorded[q++]));
  return { writes, qmp: session.recorded.map(({ afterWrite: _a, ...m }) => m), actions };
}

export function printResult(result: OperationResult, session: HotplugSession, json: boolean | undefined): void {
  const plan = dryRunPlan(session);
  if (json) {
    printJson({ ...result, dryRun: plan !== null, ...(plan ? { plan: { writes: plan.writes, qmp: plan.qmp } } : {}) });
    return;
  }
  const out: string[] = [];
  if (plan) {
    out.push(`dry run of ${result.op} ${result.bdfs.join(' ')}: nothing was changed. It would do:`);
    for (const a of plan.actions) out.push(`  ${a}`);
    if (plan.actions.length === 0) out.push('  (nothing)');
  } else {
    for (const s of result.steps) {
      out.push(`  ${MARK[s.status] ?? s.status} ${s.step}${s.bdf ? ` ${s.bdf}` : ''} (${s.ms} ms)${s.detail ? `: ${s.detail}` : ''}`);
    }
  }
  const head = { done: 'done', failed: 'failed', refused: 'refused', stuck: 'STUCK' }[result.outcome];
  out.push(`${head}: ${result.message}`);
  if (result.reasons) for (const r of result.reasons) out.push(`  ${r.code}: ${r.message}`);
  const stream = result.outcome === 'done' ? process.stdout : process.stderr;
  stream.write(out.join('\n') + '\n');
}
