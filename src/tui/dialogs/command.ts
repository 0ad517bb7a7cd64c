/** The `:` command line. A line that does not parse shows why in the status line and sends nothing. */
import {
  attachAction,
  detachAction,
  forceReturnAction,
  moveAction,
  quitAction,
  recoverAction,
  retryAction,
  returnAction,
  type ActionContext,
  type ActionResult,
} from '../actions.js';
import { parseCommand, type Command } from '../command-line.js';
import type { Dialog, Step, ViewState } from '../view-state.js';
import { editLine } from './line-editor.js';

export type CommandDialog = Extract<Dialog, { kind: 'command' }>;

function run(command: Command, ctx: ActionContext): ActionResult | { filter: string } | { help: true } {
  switch (command.kind) {
    case 'attach':
      return attachAction(ctx, command.bdf, command.guest);
    case 'move':
      return moveAction(ctx, command.bdf, command.guest);
    case 'detach':
      return detachAction(ctx, command.bdf);
    case 'return':
      return returnAction(ctx, command.bdf);
    case 'retry':
      return retryAction(ctx, command.bdf);
    case 'force-return':
      return forceReturnAction(ctx, command.bdf);
    case 'recover':
      return recoverAction(ctx);
    case 'quit':
      return command.force ? { effects: [{ kind: 'exit', code: 0 }] } : quitAction(ctx);
    case 'help':
      return { help: true };
    case 'filter':
      return { filter: command.text };
  }
}

export function commandKey(vs: ViewState, d: CommandDialog, key: string, ctx: ActionContext): Step {
  if (key === 'escape') return { vs: { ...vs, dialog: null }, effects: [] };
  if (key === 'enter') {
    if (d.text.trim() === '') return { vs: { ...vs, dialog: null }, effects: [] };
    const parsed = parseCommand(d.text);
    if (!parsed.ok) return { vs: { ...vs, dialog: null, status: { text: `:${d.text.trim()}: ${parsed.error}`, meaning: 'error' } }, effects: [] };
    const out = run(parsed.command, ctx);
    if ('filter' in out) return { vs: { ...vs, dialog: null, filter: out.filter, deviceTop: 0 }, effects: [] };
    if ('help' in out) return { vs: { ...vs, dialog: { kind: 'help', scroll: 0 } }, effects: [] };
    return { vs: { ...vs, dialog: out.dialog ?? null, status: out.status ?? null }, effects: out.effects ?? [] };
  }
  if (key === 'backspace' && d.text === '') return { vs: { ...vs, dialog: null }, effects: [] };
  const text = editLine(d.text, key);
  if (text === null) return { vs, effects: [] };
  return { vs: { ...vs, dialog: { ...d, text } }, effects: [] };
}
