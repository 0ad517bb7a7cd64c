import { describe, expect, it } from 'vitest';
import type { Operation } from '../../src/core/operations.js';
import { lineText, wrapLine, cell } from '../../src/tui/present/cells.js';
import { deviceColumns, filterDevices, sortedDevices } from '../../src/tui/present/devices.js';
import { headerCells } from '../../src/tui/present/header.js';
import { logClock } from '../../src/tui/present/log.js';
import { currentStep, formatMs, latestOperationByBdf, operationTitle } from '../../src/tui/present/operations.js';
import { interruptRates, newest } from '../../src/tui/present/sparkline.js';
import { textWidth } from '../../src/tui/width.js';
import { labState, withHeldDevice } from './fixtures.js';

describe('device filter', () => {
  const devices = sortedDevices(withHeldDevice(labState()).devices);
  const bdfs = (f: string) => filterDevices(devices, f).map((d) => d.bdf);

  it('matches BDF, vendor, name, ids, driver and owner, case-insensitively', () => {
    expect(bdfs('05:0')).toEqual(['0000:05:01.0', '0000:05:02.0']);
    expect(bdfs('red hat')).toEqual(['0000:03:00.0', '0000:04:00.0']);
    expect(bdfs('RED HAT')).toEqual(bdfs('red hat'));
    expect(bdfs('1b36:0010')).toEqual(['0000:03:00.0']);
    expect(bdfs('NVM')).toEqual(['0000:03:00.0']);
    expect(bdfs('igb')).toEqual(['0000:01:00.0']);
    expect(bdfs('vm1')).toEqual(['0000:02:00.0']);
    expect(bdfs('vfio')).toEqual(['0000:02:00.0']);
  });

  it('narrows with every word', () => {
    // 0000:02:00.0 (e1000e) is on vfio-pci with vm1 here.
    expect(bdfs('e1000')).toEqual(['0000:05:01.0', '0000:05:02.0']);
    expect(bdfs('e1000 05:02')).toEqual(['0000:05:02.0']);
    expect(bdfs('')).toHaveLength(7);
  });
});

describe('device columns', () => {
  it('fill the width exactly, at any width', () => {
    for (let w = 78; w <= 300; w++) {
      const cols = deviceColumns(w);
      expect(cols.reduce((n, c) => n + c.width, 0) + cols.length - 1).toBe(w);
    }
  });
});

describe('interrupt rates', () => {
  it('are the differences between counts, with a counter reset shown as 0', () => {
    expect(interruptRates([100, 110, 130, 5, 25])).toEqual([10, 20, 0, 20]);
    expect(interruptRates([7])).toEqual([]);
    expect(newest([1, 2, 3, 4], 2)).toEqual([3, 4]);
  });
});

describe('operations', () => {
  const op = (over: Partial<Operation>): Operation => ({
    opId: 'x',
    op: 'attach',
    bdfs: ['0000:03:00.0'],
    guest: 'vm1',
    startedAt: 0,
    steps: [],
    outcome: null,
    message: null,
    finishedAt: null,
    ...over,
  });

  it('names themselves as an operator would say them', () => {
    expect(operationTitle(op({}))).toBe('attach 0000:03:00.0 → vm1');
    expect(operationTitle(op({ op: 'move', fromGuest: 'vm1', guest: 'vm2' }))).toBe('move 0000:03:00.0 vm1 → vm2');
    expect(operationTitle(op({ op: 'detach', guest: undefined, fromGuest: 'vm1' }))).toBe('detach 0000:03:00.0 ← vm1');
    expect(operationTitle(op({ op: 'recover', bdfs: [] }))).toBe('recover');
  });

  it('are in the last step still running', () => {
    const steps: Operation['steps'] = [
      { step: 'unbind', status: 'ok', startedAt: 0, ms: 3 },
      { step: 'reset', status: 'running', startedAt: 3, ms: null },
      { step: 'journal', status: 'ok', startedAt: 4, ms: 1 },
    ];
    expect(currentStep(op({ steps }))?.step).toBe('reset');
  });

  it('newest per device wins', () => {
    const ops = { a: op({ opId: 'a', startedAt: 1, outcome: 'stuck' }), b: op({ opId: 'b', startedAt: 5 }) };
    expect(latestOperationByBdf(ops).get('0000:03:00.0')?.opId).toBe('b');
  });

  it('show times an operator can read', () => {
    expect(formatMs(12)).toBe('12 ms');
    expect(formatMs(1234)).toBe('1.2 s');
    expect(formatMs(125_000)).toBe('2m05s');
    expect(logClock(12_345)).toBe(' +12.3s');
    expect(logClock(3_723_000)).toBe(' +1h02m');
  });
});

describe('header', () => {
  it('leaves out the least important parts first when narrow, never the flags', () => {
    const state = labState();
    const wide = lineText(headerCells(state, { host: 'labhost', kernel: '6.1.0-13-amd64', mode: 'demo' }, true, 0, ['-'], 200));
    expect(wide).toContain('7 devices');
    const narrow = lineText(headerCells(state, { host: 'labhost', kernel: '6.1.0-13-amd64', mode: 'demo' }, true, 0, ['-'], 60));
    expect(textWidth(narrow)).toBeLessThanOrEqual(60);
    expect(narrow).not.toContain('devices');
    expect(narrow).not.toContain('kernel');
    expect(narrow).toContain('READ-ONLY');
    expect(narrow).toContain('DEMO');
  });
});

describe('wrapLine', () => {
  it('wraps at spaces, indents continuation lines and keeps each meaning', () => {
    const lines = wrapLine([cell('reason: '), cell('the default route goes through this network card', 'error')], 30);
    expect(lines.map(lineText)).toEqual(['reason: the default route goes', '    through this network card']);
    expect(lines[1].find((c) => c.text.includes('through'))?.meaning).toBe('error');
    for (const l of lines) expect(textWidth(lineText(l))).toBeLessThanOrEqual(30);
  });
});
