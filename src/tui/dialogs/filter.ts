/** The `/` filter: the devices table narrows with every key typed. */
import type { Dialog, Step, ViewState } from '../view-state.js';
import { editLine } from './line-editor.js';

export type FilterDialog = Extract<Dialog, { kind: 'filter' }>;

export function filterKey(vs: ViewState, d: FilterDialog, key: string): Step {
  if (key === 'enter') return { vs: { ...vs, dialog: null, status: vs.filter ? { text: `filter: ${vs.filter}`, meaning: 'muted' } : null }, effects: [] };
  if (key === 'escape') return { vs: { ...vs, dialog: null, filter: '' }, effects: [] };
  const text = editLine(d.text, key);
  if (text === null) return { vs, effects: [] };
  return { vs: { ...vs, dialog: { ...d, text }, filter: text, deviceTop: 0 }, effects: [] };
}
