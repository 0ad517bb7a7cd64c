/** The yes/no question before anything changes. No is the default; only y or a deliberate Yes sends. */
import { cell, type Line } from '../present/cells.js';
import type { Dialog, Effect, Step, ViewState } from '../view-state.js';

export type ConfirmDialog = Extract<Dialog, { kind: 'confirm' }>;

export interface DialogView {
  title: string;
  lines: Line[];
}

const intentLabels = (d: ConfirmDialog): string[] => d.onYes.filter((e): e is Extract<Effect, { kind: 'intent' }> => e.kind === 'intent').map((e) => e.label);

/** The answer itself, for the session recording: the question's title and what Yes would do. */
function answer(d: ConfirmDialog, yes: boolean): Effect {
  const about = intentLabels(d);
  return { kind: 'answer', question: d.title, about: about.length > 0 ? about.join(', ') : d.onYes.some((e) => e.kind === 'exit') ? 'quit' : '', answer: yes ? 'yes' : 'no' };
}

function answerYes(vs: ViewState, d: ConfirmDialog): Step {
  const sent = intentLabels(d);
  return {
    vs: { ...vs, dialog: null, status: sent.length > 0 ? { text: `sent: ${sent.join(', ')}`, meaning: 'ok' } : vs.status },
    effects: [answer(d, true), ...d.onYes],
  };
}

function answerNo(vs: ViewState, d: ConfirmDialog): Step {
  const changes = d.onYes.some((e) => e.kind === 'intent');
  return {
    vs: { ...vs, dialog: null, status: changes ? { text: `${d.title.toLowerCase()}: cancelled, nothing was sent`, meaning: 'muted' } : null },
    effects: [answer(d, false)],
  };
}

export function confirmKey(vs: ViewState, d: ConfirmDialog, key: string): Step {
  switch (key) {
    case 'left':
    case 'right':
    case 'h':
    case 'l':
    case 'tab':
    case 'S-tab':
      return { vs: { ...vs, dialog: { ...d, choice: d.choice === 'no' ? 'yes' : 'no' } }, effects: [] };
    case 'y':
    case 'Y':
      return answerYes(vs, d);
    case 'n':
    case 'N':
    case 'q':
    case 'escape':
      return answerNo(vs, d);
    case 'enter':
    case ' ':
      return d.choice === 'yes' ? answerYes(vs, d) : answerNo(vs, d);
    default:
      return { vs, effects: [] };
  }
}

export function confirmView(d: ConfirmDialog): DialogView {
  // Brackets as well as colour, so the default shows without colour too (NO_COLOR, monochrome).
  const button = (label: string, on: boolean) => cell(on ? `[ ${label} ]` : `  ${label}  `, on ? 'buttonFocus' : 'button');
  return {
    title: d.title,
    lines: [...d.lines, [], [cell('        '), button('No', d.choice === 'no'), cell('   '), button('Yes', d.choice === 'yes')]],
  };
}
