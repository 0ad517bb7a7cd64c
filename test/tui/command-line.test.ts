import { describe, expect, it } from 'vitest';
import { commandBdf, parseCommand } from '../../src/tui/command-line.js';

describe('the : command line', () => {
  it('reads attach, move, detach, return, retry, force-return, recover, filter, help and quit', () => {
    expect(parseCommand('attach 0000:03:00.0 vm1')).toEqual({ ok: true, command: { kind: 'attach', bdf: '0000:03:00.0', guest: 'vm1' } });
    expect(parseCommand('  move 03:00.0   vm2 ')).toEqual({ ok: true, command: { kind: 'move', bdf: '0000:03:00.0', guest: 'vm2' } });
    expect(parseCommand('detach 0000:0A:1f.7')).toEqual({ ok: true, command: { kind: 'detach', bdf: '0000:0a:1f.7' } });
    expect(parseCommand('return 03:00.0')).toEqual({ ok: true, command: { kind: 'return', bdf: '0000:03:00.0' } });
    expect(parseCommand('retry 03:00.0')).toEqual({ ok: true, command: { kind: 'retry', bdf: '0000:03:00.0' } });
    expect(parseCommand('force-return 03:00.0')).toEqual({ ok: true, command: { kind: 'force-return', bdf: '0000:03:00.0' } });
    expect(parseCommand('recover')).toEqual({ ok: true, command: { kind: 'recover' } });
    expect(parseCommand('filter intel nic')).toEqual({ ok: true, command: { kind: 'filter', text: 'intel nic' } });
    expect(parseCommand('help')).toEqual({ ok: true, command: { kind: 'help' } });
    expect(parseCommand('q')).toEqual({ ok: true, command: { kind: 'quit', force: false } });
    expect(parseCommand('q!')).toEqual({ ok: true, command: { kind: 'quit', force: true } });
  });

  it('says what is wrong with a bad line', () => {
    expect(parseCommand('atach 03:00.0 vm1')).toEqual({ ok: false, error: expect.stringContaining('unknown command "atach"; commands: attach') as unknown });
    expect(parseCommand('attach 03:00.0')).toEqual({ ok: false, error: 'attach needs a device and a guest; usage: attach BDF GUEST' });
    expect(parseCommand('detach 03:20.0')).toEqual({ ok: false, error: '"03:20.0" is not a PCI address (DDDD:BB:DD.F); usage: detach BDF' });
    expect(parseCommand('detach ../../sys')).toMatchObject({ ok: false });
    expect(parseCommand('recover now')).toMatchObject({ ok: false });
    expect(parseCommand('q now')).toEqual({ ok: false, error: 'q takes no arguments' });
    expect(parseCommand('   ')).toEqual({ ok: false, error: 'empty command' });
  });

  it('accepts only well-formed PCI addresses', () => {
    expect(commandBdf('03:00.0')).toBe('0000:03:00.0');
    expect(commandBdf('0001:FF:1F.7')).toBe('0001:ff:1f.7');
    for (const bad of ['03:00', '3:00.0', '03:00.8', '03:20.0', '0000:03:00.0x', '00000:03:00.0', '']) expect(commandBdf(bad)).toBeNull();
  });
});
