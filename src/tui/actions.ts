/**
 * What the operator asks for, checked against the state before anything is sent: each action
 * either refuses with a line in the status bar, or opens a guest picker, or opens a confirmation
 * that names the device and the guest. Nothing here sends an intent by itself; a Yes does.
 */
import type { Device } from '../core/device.js';
import type { Intent } from '../core/operations.js';
import type { HotslotState } from '../core/state.js';
import { cell, type Line } from './present/cells.js';
import { groupIndex } from './present/details.js';
import { deviceName } from './present/devices.js';
import { targetGuests } from './present/guests.js';
import { activeOperations, currentStep, isActive, latestOperationByBdf, operationTitle } from './present/operations.js';
import type { Dialog, Effect, Status } from './view-state.js';

export interface ActionResult {
  dialog?: Dialog;
  status?: Status;
  effects?: Effect[];
}

export interface ActionContext {
  state: HotslotState;
  readOnly: boolean;
  /** A replay: read-only because it only shows what happened. */
  replay?: boolean;
}

const refuse = (text: string): ActionResult => ({ status: { text, meaning: 'warn' } });

function readOnlyRefusal(ctx: ActionContext, what: string): ActionResult {
  if (ctx.replay) return refuse(`replay: ${what} is off; a replay only shows what happened`);
  return refuse(`read-only: ${what} is off (--read-only); nothing sent`);
}

const named = (d: Device): string => `${d.bdf} (${deviceName(d)})`;

function confirm(title: string, lines: Line[], intent: Intent, label: string): ActionResult {
  return { dialog: { kind: 'confirm', title, lines, choice: 'no', onYes: [{ kind: 'intent', intent, label }] } };
}

/** Checks common to every action on one device: read-only, the device exists, nothing runs on it. */
function deviceFor(ctx: ActionContext, what: string, bdf: string | null): Device | ActionResult {
  if (ctx.readOnly) return readOnlyRefusal(ctx, what);
  if (!bdf) return refuse(`${what}: no device selected`);
  const d = ctx.state.devices[bdf];
  if (!d) return refuse(`${what}: no device ${bdf} on this host`);
  const op = latestOperationByBdf(ctx.state.operations).get(bdf);
  if (op && isActive(op)) return refuse(`${bdf} is busy: ${operationTitle(op)} is running (${currentStep(op)?.step ?? 'starting'})`);
  return d;
}

const isResult = (x: Device | ActionResult): x is ActionResult => !('bdf' in x);

/** Why a device may not be assignable, and who shares its group, for the attach question. */
function attachWarnings(d: Device, state: HotslotState): Line[] {
  const lines: Line[] = [];
  if (!d.assignable.ok) {
    lines.push([cell('check says it cannot be assigned:', 'error')]);
    for (const r of d.assignable.reasons) lines.push([cell(`  - ${r.message}`, 'error')]);
  }
  const others = d.iommuGroup === null ? [] : (groupIndex(state.devices).get(d.iommuGroup) ?? []).filter((b) => b !== d.bdf);
  if (others.length > 0) lines.push([cell(`IOMMU group ${d.iommuGroup} also holds ${others.join(', ')}`, 'warn')]);
  return lines;
}

export function attachAction(ctx: ActionContext, bdf: string | null, guest?: string): ActionResult {
  const d = deviceFor(ctx, 'attach', bdf);
  if (isResult(d)) return d;
  if (d.owner.kind === 'guest') return refuse(`${d.bdf} is held by ${d.owner.guest ?? 'a guest'}: m moves it, d detaches it`);
  const targets = targetGuests(ctx.state);
  if (targets.length === 0) return refuse(`attach: no connected guest to attach ${d.bdf} to`);
  if (guest === undefined) {
    return { dialog: { kind: 'pick-guest', purpose: 'attach', bdf: d.bdf, choices: targets.map((g) => ({ name: g.name, freeSlots: g.freeSlots.length })), index: 0, note: null } };
  }
  if (!targets.some((g) => g.name === guest)) return refuse(`attach: no connected guest named "${guest}" (connected: ${targets.map((g) => g.name).join(', ')})`);
  const from = d.driver ? `It leaves its host driver ${d.driver}.` : 'It has no host driver now.';
  return confirm(
    'Attach',
    [[cell('Attach '), cell(named(d), 'accent'), cell(' to guest '), cell(guest, 'accent'), cell('?')], [cell(from, 'muted')], ...attachWarnings(d, ctx.state)],
    { kind: 'attach', bdf: d.bdf, guest },
    `attach ${d.bdf} → ${guest}`,
  );
}

export function detachAction(ctx: ActionContext, bdf: string | null): ActionResult {
  const d = deviceFor(ctx, 'detach', bdf);
  if (isResult(d)) return d;
  if (d.owner.kind !== 'guest') return refuse(`detach: ${d.bdf} is not with a guest (owner: ${d.owner.kind})`);
  const guest = d.owner.guest ?? '?';
  return confirm(
    'Detach',
    [
      [cell('Detach '), cell(named(d), 'accent'), cell(' from guest '), cell(guest, 'accent'), cell('?')],
      [cell('The guest loses the device; it goes back to its host driver.', 'muted')],
    ],
    { kind: 'detach', bdf: d.bdf },
    `detach ${d.bdf} ← ${guest}`,
  );
}

export function moveAction(ctx: ActionContext, bdf: string | null, guest?: string): ActionResult {
  const d = deviceFor(ctx, 'move', bdf);
  if (isResult(d)) return d;
  if (d.owner.kind !== 'guest') return refuse(`move: ${d.bdf} is not with a guest (owner: ${d.owner.kind}); a attaches it`);
  const from = d.owner.guest ?? '?';
  const targets = targetGuests(ctx.state, from);
  if (targets.length === 0) return refuse(`move: no other connected guest to move ${d.bdf} to`);
  if (guest === undefined) {
    return { dialog: { kind: 'pick-guest', purpose: 'move', bdf: d.bdf, choices: targets.map((g) => ({ name: g.name, freeSlots: g.freeSlots.length })), index: 0, note: null } };
  }
  if (!targets.some((g) => g.name === guest)) return refuse(`move: no other connected guest named "${guest}" (connected: ${targets.map((g) => g.name).join(', ')})`);
  return confirm(
    'Move',
    [
      [cell('Move '), cell(named(d), 'accent'), cell(' from guest '), cell(from, 'accent'), cell(' to guest '), cell(guest, 'accent'), cell('?')],
      [cell(`If ${guest} fails to take it, it goes back to ${from}.`, 'muted')],
    ],
    { kind: 'move', bdf: d.bdf, guest },
    `move ${d.bdf} ${from} → ${guest}`,
  );
}

export function returnAction(ctx: ActionContext, bdf: string | null): ActionResult {
  const d = deviceFor(ctx, 'return', bdf);
  if (isResult(d)) return d;
  if (d.owner.kind === 'guest') return refuse(`return: ${d.bdf} is held by ${d.owner.guest ?? 'a guest'}: d detaches it and returns it to the host`);
  if (d.owner.kind === 'host') return refuse(`return: ${d.bdf} is already with the host (driver ${d.driver ?? 'none'})`);
  return confirm(
    'Return to host',
    [
      [cell('Return '), cell(named(d), 'accent'), cell(' to the host?')],
      [cell(`It leaves ${d.driver ?? 'no driver'} and goes back to its original host driver.`, 'muted')],
    ],
    { kind: 'return', bdf: d.bdf },
    `return ${d.bdf}`,
  );
}

export function recoverAction(ctx: ActionContext): ActionResult {
  if (ctx.readOnly) return readOnlyRefusal(ctx, 'recover');
  const running = activeOperations(ctx.state.operations);
  if (running.length > 0) return refuse(`recover: wait until ${operationTitle(running[0])} has finished`);
  return confirm(
    'Recover',
    [[cell('Recover: finish or roll back every unfinished operation in the journal?')], [cell('Each device ends fully with its guest or back on its host driver.', 'muted')]],
    { kind: 'recover' },
    'recover',
  );
}

function stuckDevice(ctx: ActionContext, what: string, bdf: string | null): { d: Device; guest: string; op: string } | ActionResult {
  const d = deviceFor(ctx, what, bdf);
  if (isResult(d)) return d;
  const op = latestOperationByBdf(ctx.state.operations).get(d.bdf);
  if (!op || op.outcome !== 'stuck') return refuse(`${what}: ${d.bdf} is not stuck`);
  return { d, guest: op.fromGuest ?? op.guest ?? d.owner.guest ?? 'its guest', op: op.op };
}

export function retryAction(ctx: ActionContext, bdf: string | null): ActionResult {
  const s = stuckDevice(ctx, 'retry', bdf);
  if (!('d' in s)) return s;
  return confirm(
    'Retry',
    [[cell(`Retry the ${s.op} of `), cell(named(s.d), 'accent'), cell(' with guest '), cell(s.guest, 'accent'), cell('?')]],
    { kind: 'retry', bdf: s.d.bdf },
    `retry ${s.d.bdf}`,
  );
}

export function forceReturnAction(ctx: ActionContext, bdf: string | null): ActionResult {
  const s = stuckDevice(ctx, 'force-return', bdf);
  if (!('d' in s)) return s;
  return confirm(
    'Force return',
    [
      [cell('Force '), cell(named(s.d), 'accent'), cell(' back to the host?')],
      [cell(`${s.guest} has not let go of it: the guest may lose it abruptly.`, 'error')],
    ],
    { kind: 'force-return', bdf: s.d.bdf },
    `force-return ${s.d.bdf}`,
  );
}

export function quitAction(ctx: ActionContext): ActionResult {
  const running = activeOperations(ctx.state.operations);
  // A replay's running operation ran long ago: leaving stops nothing.
  if (running.length === 0 || ctx.replay) return { effects: [{ kind: 'exit', code: 0 }] };
  const op = running[0];
  return {
    dialog: {
      kind: 'confirm',
      title: 'Quit',
      lines: [
        [cell('Quit while '), cell(operationTitle(op), 'accent'), cell(` is running (${currentStep(op)?.step ?? 'starting'})?`)],
        [cell('If hotslot stops mid-way, `hotslot recover` finishes it or rolls it back.', 'muted')],
      ],
      choice: 'no',
      onYes: [{ kind: 'exit', code: 0 }],
    },
  };
}
