import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfigFile, parseConfig } from '../../src/cli/config-file.js';

describe('the configuration file', () => {
  it('normalises every address, keeps the allow-list apart from no list at all, and resolves guests', () => {
    const c = parseConfig(
      JSON.stringify({
        protect: ['00:1f.0'],
        allow: ['02:00.0', '0000:05:01.0'],
        reservations: { '02:00.0': 'vm1' },
        guests: { vm1: 'sockets/vm1.qmp', vm2: '/run/vm2.qmp', vm3: 'tcp:[::1]:4444' },
      }),
      '/etc/hotslot/config.json',
    );
    expect(c.protect).toEqual(['0000:00:1f.0']);
    expect(c.allow).toEqual(['0000:02:00.0', '0000:05:01.0']);
    expect([...c.reservations]).toEqual([['0000:02:00.0', 'vm1']]);
    expect(c.guests.map((g) => [g.name, g.endpoint, g.source])).toEqual([
      ['vm1', { kind: 'unix', path: '/etc/hotslot/sockets/vm1.qmp' }, 'config /etc/hotslot/config.json'],
      ['vm2', { kind: 'unix', path: '/run/vm2.qmp' }, 'config /etc/hotslot/config.json'],
      ['vm3', { kind: 'tcp', host: '::1', port: 4444 }, 'config /etc/hotslot/config.json'],
    ]);
    expect(parseConfig('{}', '/x.json').allow).toBeNull();
    expect(parseConfig('{"allow": []}', '/x.json').allow).toEqual([]);
  });

  it('names the field that is wrong', () => {
    const fieldOf = (text: string) => {
      try {
        parseConfig(text, '/x.json');
      } catch (err) {
        if (err instanceof ConfigError) return err.field;
        throw err;
      }
      return 'no error';
    };
    expect(fieldOf('{"protect": ["0000:02:00.0", "nope"]}')).toBe('protect[1]');
    expect(fieldOf('{"guests": {"vm1": ""}}')).toBe('guests.vm1');
    expect(fieldOf('{"reservations": {"02:00.0": 1}}')).toBe('reservations.02:00.0');
    expect(fieldOf('{"allow": [], "guest": {}}')).toBe('guest');
    expect(fieldOf('null')).toBeNull();
  });

  it('lives in $XDG_CONFIG_HOME/hotslot, else ~/.config/hotslot, like the user themes', () => {
    expect(defaultConfigFile({ XDG_CONFIG_HOME: '/cfg', HOME: '/home/op' })).toBe('/cfg/hotslot/config.json');
    expect(defaultConfigFile({ XDG_CONFIG_HOME: 'relative', HOME: '/home/op' })).toBe('/home/op/.config/hotslot/config.json');
    expect(defaultConfigFile({ HOME: '/home/op' })).toBe('/home/op/.config/hotslot/config.json');
  });
});
