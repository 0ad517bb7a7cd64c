/** Rows of cells in fixed columns, shared by the devices and guests tables. */
import { cell, type Cell } from '../present/cells.js';
import type { Column } from '../present/devices.js';
import { fit } from '../width.js';

/** A row of cells laid out in columns, one space apart. */
export function tableLine<Id extends string>(columns: readonly Column<Id>[], cells: Record<Id, Cell>): Cell[] {
  const out: Cell[] = [];
  columns.forEach((c, i) => {
    if (i > 0) out.push(cell(' '));
    const v = cells[c.id];
    out.push({ text: fit(v.text, c.width, c.align), meaning: v.meaning });
  });
  return out;
}

export function headerLine<Id extends string>(columns: readonly Column<Id>[]): Cell[] {
  return [cell(columns.map((c) => fit(c.header, c.width, c.align)).join(' '))];
}
