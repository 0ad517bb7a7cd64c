/** Picks the guest an attach or a move goes to; Enter leads to the confirmation, not to the intent. */
import { attachAction, moveAction, type ActionContext } from '../actions.js';
import { cell, type Line } from '../present/cells.js';
import type { Dialog, Step, ViewState } from '../view-state.js';
import type { DialogView } from './confirm.js';

export type PickGuestDialog = Extract<Dialog, { kind: 'pick-guest' }>;

export function pickGuestKey(vs: ViewState, d: PickGuestDialog, key: string, ctx: ActionContext): Step {
  const to = (index: number): Step => ({
    vs: { ...vs, dialog: { ...d, index: Math.max(0, Math.min(d.choices.length - 1, index)), note: null } },
    effects: [],
  });
  switch (key) {
    case 'up':
    case 'k':
      return to(d.index - 1);
    case 'down':
    case 'j':
      return to(d.index + 1);
    case 'g':
    case 'home':
      return to(0);
    case 'G':
    case 'end':
      return to(d.choices.length - 1);
    case 'escape':
    case 'q':
      return { vs: { ...vs, dialog: null, status: { text: `${d.purpose}: cancelled, nothing was sent`, meaning: 'muted' } }, effects: [] };
    case 'enter': {
      const choice = d.choices[d.index];
      if (!choice) return { vs, effects: [] };
      if (choice.freeSlots === 0) return { vs: { ...vs, dialog: { ...d, note: `${choice.name} has no free hotplug slot` } }, effects: [] };
      const next = d.purpose === 'attach' ? attachAction(ctx, d.bdf, choice.name) : moveAction(ctx, d.bdf, choice.name);
      return { vs: { ...vs, dialog: next.dialog ?? null, status: next.status ?? vs.status }, effects: next.effects ?? [] };
    }
    default:
      return { vs, effects: [] };
  }
}

export function pickGuestView(d: PickGuestDialog): DialogView {
  const width = Math.max(8, ...d.choices.map((c) => c.name.length));
  const lines: Line[] = [[cell(d.purpose === 'attach' ? 'Attach ' : 'Move '), cell(d.bdf, 'accent'), cell(' to which guest?')], []];
  d.choices.forEach((c, i) => {
    const on = i === d.index;
    lines.push([
      cell(on ? ' > ' : '   ', 'accent'),
      cell(c.name.padEnd(width), on ? 'buttonFocus' : 'normal'),
      cell(c.freeSlots === 0 ? '  no free slot' : `  ${c.freeSlots} free slot${c.freeSlots === 1 ? '' : 's'}`, c.freeSlots === 0 ? 'warn' : 'muted'),
    ]);
  });
  if (d.note) lines.push([], [cell(d.note, 'warn')]);
  return { title: d.purpose === 'attach' ? 'Attach to' : 'Move to', lines };
}
