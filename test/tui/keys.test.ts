import { afterEach, describe, expect, it } from 'vitest';
import type { HotslotEvent } from '../../src/core/events.js';
import type { HotslotState } from '../../src/core/state.js';
import { BINDINGS, type Action } from '../../src/tui/keymap.js';
import { KEY } from '../support/fake-tty.js';
import { build, labState, makeDevice, replaySession, withHeldDevice } from './fixtures.js';
import { openDashboard, openReplay, type Harness, type ReplayHarness } from './harness.js';

let h: Harness | undefined;
let r: ReplayHarness | undefined;
afterEach(() => {
  h?.close();
  r?.close();
  h = r = undefined;
});
const open = (...args: Parameters<typeof openDashboard>) => (h = openDashboard(...args));
/** A replay of the fixtures' session: an attach at 5 s, done at 5.7 s, a detach at 25 s, 40 s in all. */
const replay = () => (r = openReplay(replaySession()));

/** The device the details pane (or view) shows. */
const detailsOf = (d: Harness) => /Details (\S+)/.exec(d.text())?.[1];
const bar = (d: Harness) => d.lines()[d.lines().length - 1];
/** The screen as one line, borders and wrapping gone, for sentences a dialog may wrap. */
const flat = (d: Harness) => d.text().replace(/[│└┘┌┐─\s]+/g, ' ');

/** 0000:02:00.0 held by vm1, 0000:05:01.0 parked on vfio-pci, the rest on the host. */
function mixedState(): HotslotState {
  const s = withHeldDevice(labState());
  return build([{ type: 'host.device.changed', at: 11, device: { ...s.devices['0000:05:01.0'], driver: 'vfio-pci', owner: { kind: 'vfio' } }, fields: ['driver'] }], s);
}

function stuckState(): HotslotState {
  return build(
    [
      { type: 'op.started', at: 100, opId: 'op9', op: 'detach', bdfs: ['0000:02:00.0'], fromGuest: 'vm1' },
      { type: 'op.finished', at: 30_100, opId: 'op9', outcome: 'stuck', message: 'vm1 did not release it' },
    ],
    mixedState(),
  );
}

const running: HotslotEvent[] = [
  { type: 'op.started', at: 100, opId: 'op1', op: 'attach', bdfs: ['0000:03:00.0'], guest: 'vm1' },
  { type: 'op.step', at: 101, opId: 'op1', step: 'unbind', bdf: '0000:03:00.0', status: 'running' },
];

function manyDevices(n: number): HotslotState {
  const devices = Array.from({ length: n }, (_, i) => makeDevice(`0000:${(i + 1).toString(16).padStart(2, '0')}:00.0`));
  return build([{ type: 'host.scanned', at: 1, iommu: true, devices }]);
}

/** What each key does, as the help says it; every action of the keymap has its check here. */
const checks: Record<Action, (key: string) => Promise<void>> = {
  async down(key) {
    const d = open(labState());
    await d.press(key);
    expect(detailsOf(d)).toBe('0000:01:00.0');
  },
  async up(key) {
    const d = open(labState());
    await d.press('j', 'j', key);
    expect(detailsOf(d)).toBe('0000:01:00.0');
  },
  async pageDown(key) {
    const d = open(manyDevices(40));
    await d.press(key);
    // 80x24: the devices pane shows 7 rows under its column header.
    expect(detailsOf(d)).toBe('0000:08:00.0');
  },
  async pageUp(key) {
    const d = open(manyDevices(40));
    await d.press('G', key);
    expect(detailsOf(d)).toBe(`0000:${(40 - 7).toString(16).padStart(2, '0')}:00.0`);
  },
  async top(key) {
    const d = open(labState());
    await d.press('j', 'j', 'j', key);
    expect(detailsOf(d)).toBe('0000:00:00.0');
  },
  async bottom(key) {
    const d = open(labState());
    await d.press(key);
    expect(detailsOf(d)).toBe('0000:05:02.0');
  },
  async nextPane(key) {
    const d = open(labState());
    await d.press(key);
    expect(d.text()).toContain('Guest vm1');
    await d.press('j');
    expect(d.text()).toContain('Guest vm2');
    // On the log, j and k scroll the log: neither the guest nor the device selection moves.
    await d.press(key, 'j', 'k');
    expect(detailsOf(d)).toBe('0000:00:00.0');
    await d.press(key, 'j');
    expect(detailsOf(d)).toBe('0000:01:00.0');
  },
  async prevPane(key) {
    const d = open(labState());
    await d.press(key);
    // From the devices pane back around to the log: j scrolls the log, not the devices.
    await d.press('j');
    expect(detailsOf(d)).toBe('0000:00:00.0');
    await d.press(key, 'j');
    expect(d.text()).toContain('Guest vm2');
  },
  async open(key) {
    const d = open(labState());
    await d.press('j', key);
    expect(d.text()).not.toContain('Devices 7');
    expect(d.lines()[1]).toContain('Details 0000:01:00.0');
  },
  async back(key) {
    const d = open(labState());
    await d.press(KEY.enter, key);
    expect(d.text()).toContain('Devices 7');
    await d.press('/');
    await d.type('e1000');
    await d.press(KEY.enter);
    expect(d.text()).toContain('Devices /e1000  3 of 7');
    await d.press(key);
    expect(d.text()).toContain('Devices 7');
  },
  async filter(key) {
    const d = open(withHeldDevice(labState()));
    await d.press(key);
    await d.type('vm1');
    expect(d.text()).toContain('Devices /vm1  1 of 7');
    expect(d.row('│0000:02:00.0')).toBeDefined();
    expect(d.row('│0000:03:00.0')).toBeUndefined();
    await d.press(KEY.escape);
    expect(d.text()).toContain('Devices 7');
  },
  async attach(key) {
    const d = open(labState());
    await d.press('j', 'j', 'j', key);
    expect(d.text()).toContain('Attach 0000:03:00.0 to which guest?');
    await d.press('j', KEY.enter);
    expect(d.text()).toContain('Attach 0000:03:00.0 (QEMU NVM Express Controller) to guest vm2?');
    await d.press('y');
    expect(d.sent).toEqual([{ kind: 'attach', bdf: '0000:03:00.0', guest: 'vm2' }]);
    expect(bar(d)).toContain('sent: attach 0000:03:00.0 → vm2');
  },
  async detach(key) {
    const d = open(mixedState());
    await d.press('j', 'j', key);
    expect(d.text()).toContain('Detach 0000:02:00.0 (82574L Gigabit Network Connection) from guest vm1?');
    await d.press(KEY.right, KEY.enter);
    expect(d.sent).toEqual([{ kind: 'detach', bdf: '0000:02:00.0' }]);
  },
  async move(key) {
    const d = open(mixedState());
    await d.press('j', 'j', key);
    expect(d.text()).toContain('Move 0000:02:00.0 to which guest?');
    // vm1 holds it and vm3 is gone: vm2 is the only choice.
    expect(d.text()).not.toMatch(/> vm1| {2}vm3/);
    await d.press(KEY.enter);
    expect(flat(d)).toContain('Move 0000:02:00.0 (82574L Gigabit Network Connection) from guest vm1 to guest vm2?');
    await d.press('y');
    expect(d.sent).toEqual([{ kind: 'move', bdf: '0000:02:00.0', guest: 'vm2' }]);
  },
  async return(key) {
    const d = open(mixedState());
    await d.press('j', 'j', 'j', key);
    expect(bar(d)).toContain('return: 0000:03:00.0 is already with the host (driver nvme)');
    await d.press('j', 'j', key);
    expect(d.text()).toContain('Return 0000:05:01.0 (82540EM Gigabit Ethernet Controller) to the host?');
    await d.press('y');
    expect(d.sent).toEqual([{ kind: 'return', bdf: '0000:05:01.0' }]);
  },
  async recover(key) {
    const d = open(labState());
    await d.press(key);
    expect(d.text()).toContain('Recover: finish or roll back every unfinished operation');
    await d.press('y');
    expect(d.sent).toEqual([{ kind: 'recover' }]);
  },
  async retry(key) {
    const d = open(stuckState());
    await d.press('j', key);
    expect(bar(d)).toContain('retry: 0000:01:00.0 is not stuck');
    await d.press('j', key);
    expect(d.text()).toContain('Retry the detach of 0000:02:00.0');
    await d.press('y');
    expect(d.sent).toEqual([{ kind: 'retry', bdf: '0000:02:00.0' }]);
  },
  async forceReturn(key) {
    const d = open(stuckState());
    await d.press('j', 'j', key);
    expect(d.text()).toContain('Force 0000:02:00.0 (82574L Gigabit Network Connection) back to the host?');
    expect(d.text()).toContain('vm1 has not let go of it');
    await d.press('y');
    expect(d.sent).toEqual([{ kind: 'force-return', bdf: '0000:02:00.0' }]);
  },
  async help(key) {
    const d = open(labState(), { rows: 40 });
    await d.press(key);
    expect(d.text()).toContain('Keys');
    expect(d.text()).toMatch(/a\s+attach the device to a guest \(pick the guest\)/);
    await d.press(KEY.escape);
    expect(d.text()).not.toContain('attach the device to a guest');
  },
  async command(key) {
    const d = open(labState());
    await d.press(key);
    await d.type('attach 03:00.0 vm1');
    expect(bar(d)).toContain(':attach 03:00.0 vm1_');
    await d.press(KEY.enter);
    expect(d.text()).toContain('Attach 0000:03:00.0 (QEMU NVM Express Controller) to guest vm1?');
    await d.press('y');
    expect(d.sent).toEqual([{ kind: 'attach', bdf: '0000:03:00.0', guest: 'vm1' }]);
  },
  async quit(key) {
    const d = open(labState());
    await d.press(key);
    expect(d.exits).toEqual([0]);
  },
  async interrupt(key) {
    const d = open(build(running, labState()));
    await d.press('R'); // a question is open and an operation runs: Ctrl-C still leaves
    await d.press(key);
    expect(d.exits).toEqual([0]);
  },
  async replayPause(key) {
    const d = replay();
    await d.press(key);
    d.advance(3_000);
    expect(d.header()).toContain('PAUSED 0:00.0/');
  },
  async replayNext(key) {
    const d = replay();
    await d.press(key);
    expect(d.header()).toContain('attach 0000:03:00.0 → vm1');
    expect(d.header()).toContain('PAUSED 0:05.0/');
  },
  async replayPrevious(key) {
    const d = replay();
    await d.press('n', 'n', key);
    expect(d.header()).toContain('PAUSED 0:05.0/');
  },
  async replayForward(key) {
    const d = replay();
    await d.press(key);
    expect(d.header()).toContain('playing 0:10.0/');
  },
  async replayBack(key) {
    const d = replay();
    await d.press(KEY.end, key);
    expect(d.header()).toContain('0:30.0/');
  },
  async replayStart(key) {
    const d = replay();
    await d.press(KEY.right, key);
    expect(d.header()).toContain('0:00.0/');
  },
  async replayEnd(key) {
    const d = replay();
    await d.press(key);
    expect(d.header()).toContain('ended 0:40.0/0:40.0');
  },
  async replayFaster(key) {
    const d = replay();
    await d.press(key);
    d.advance(1_000);
    expect(d.header()).toContain('playing 0:02.0/0:40.0 x2');
  },
  async replaySlower(key) {
    const d = replay();
    await d.press(key);
    d.advance(1_000);
    expect(d.header()).toContain('playing 0:00.5/0:40.0 x1/2');
  },
};

const sequence: Record<string, string> = {
  up: KEY.up,
  down: KEY.down,
  pageup: KEY.pageUp,
  pagedown: KEY.pageDown,
  home: KEY.home,
  end: KEY.end,
  left: KEY.left,
  right: KEY.right,
  tab: KEY.tab,
  'S-tab': KEY.shiftTab,
  enter: KEY.enter,
  escape: KEY.escape,
  f1: KEY.f1,
  f10: KEY.f10,
  'C-c': KEY.ctrlC,
  'C-b': '\x02',
  'C-f': '\x06',
};

describe('each key does what the help says', () => {
  for (const b of BINDINGS) {
    for (const key of b.keys) {
      it(`${key}: ${b.help}`, async () => {
        await checks[b.action](sequence[key] ?? key);
      });
    }
  }
});

describe('confirmation', () => {
  it('defaults to No: Enter on a fresh question sends nothing', async () => {
    const d = open(mixedState());
    await d.press('j', 'j', 'd');
    expect(d.text()).toContain('[ No ]');
    expect(d.text()).not.toContain('[ Yes ]');
    await d.press(KEY.enter);
    expect(d.sent).toEqual([]);
    expect(bar(d)).toContain('detach: cancelled, nothing was sent');
  });

  it('sends nothing on Esc or n, from the question or from the guest picker', async () => {
    const d = open(mixedState());
    await d.press('j', 'j', 'd', KEY.escape, 'd', 'n', 'j', 'a', KEY.escape, 'a', KEY.enter, KEY.escape);
    expect(d.sent).toEqual([]);
  });

  it('names the device, the guest, and why check would refuse it', async () => {
    const d = open(labState());
    await d.press('j', 'a', KEY.enter);
    const text = d.text();
    expect(text).toContain('Attach 0000:01:00.0 (82576 Gigabit Network Connection) to guest vm1?');
    expect(text).toContain('check says it cannot be assigned');
    expect(text).toContain('the default route goes through it');
  });

  it('does not offer a guest with no free hotplug slot', async () => {
    const full = build([{ type: 'guest.devices', at: 20, guest: 'vm2', devices: [], freeSlots: [] }], labState());
    const d = open(full);
    await d.press('j', 'j', 'j', 'a', 'j', KEY.enter);
    expect(d.text()).toContain('vm2 has no free hotplug slot');
    await d.press('y');
    expect(d.sent).toEqual([]);
  });

  it('refuses to start a second operation on a busy device, and asks before quitting while one runs', async () => {
    const d = open(build(running, labState()));
    await d.press('j', 'j', 'j', 'a');
    expect(bar(d)).toContain('0000:03:00.0 is busy: attach 0000:03:00.0 → vm1 is running (unbind)');
    await d.press('q');
    expect(d.text()).toContain('Quit while attach 0000:03:00.0 → vm1 is running (unbind)?');
    await d.press(KEY.enter);
    expect(d.exits).toEqual([]);
    await d.press(KEY.f10, 'y');
    expect(d.exits).toEqual([0]);
  });

  it('keeps the keys alive while an operation runs', async () => {
    const d = open(build(running, labState()));
    await d.press('j', KEY.enter);
    expect(d.lines()[1]).toContain('Details 0000:01:00.0');
    await d.press(KEY.escape, '/');
    await d.type('nvme');
    expect(d.text()).toContain('1 of 7');
  });
});

describe('command line', () => {
  it('shows an error for a bad command and sends nothing', async () => {
    const d = open(labState());
    for (const line of ['atach 03:00.0 vm1', 'attach 03:00 vm1', 'attach 0000:03:00.0', 'detach 0000:99:00.0', 'attach 03:00.0 nosuchvm']) {
      await d.press(':');
      await d.type(line);
      await d.press(KEY.enter);
      expect(bar(d)).toMatch(/unknown command|not a PCI address|needs a device and a guest|no device 0000:99:00.0|no connected guest named "nosuchvm"/);
    }
    expect(d.sent).toEqual([]);
    expect(d.exits).toEqual([]);
  });

  it('quits with :q', async () => {
    const d = open(labState());
    await d.press(':');
    await d.type('q');
    await d.press(KEY.enter);
    expect(d.exits).toEqual([0]);
  });
});

describe('--read-only', () => {
  it('turns every change off: the key says so in the status line and sends nothing', async () => {
    const d = open(stuckState(), { readOnly: true });
    await d.press('j', 'j');
    for (const [key, word] of [
      ['a', 'attach'],
      ['d', 'detach'],
      ['m', 'move'],
      ['r', 'return'],
      ['R', 'recover'],
      ['t', 'retry'],
      ['X', 'force-return'],
    ]) {
      await d.press(key);
      expect(bar(d)).toContain(`read-only: ${word} is off (--read-only); nothing sent`);
      expect(d.text()).not.toContain('[ No ]');
    }
    await d.press(':');
    await d.type('detach 0000:02:00.0');
    await d.press(KEY.enter);
    expect(bar(d)).toContain('read-only: detach is off');
    expect(d.sent).toEqual([]);
  });

  it('leaves the changing keys out of the bar', () => {
    const d = open(labState(), { readOnly: true });
    expect(bar(d)).not.toContain('attach');
    expect(bar(d)).toContain('filter');
  });
});

describe('what the dashboard notes for the session recording', () => {
  it('each answer to a question, No and Yes, with what it was about; the intent only after Yes', async () => {
    const d = open(mixedState());
    await d.press('j', 'j', 'd', 'n');
    expect(d.sent).toEqual([]);
    await d.press('d', 'y');
    const answers = d.notes.flatMap((n) => (n.type === 'operator.answer' ? [[n.question, n.about, n.answer]] : []));
    expect(answers).toEqual([
      ['Detach', 'detach 0000:02:00.0 ← vm1', 'no'],
      ['Detach', 'detach 0000:02:00.0 ← vm1', 'yes'],
    ]);
    expect(d.sent).toEqual([{ kind: 'detach', bdf: '0000:02:00.0' }]);
  });

  it('a resize of the terminal, with its new size', () => {
    const d = open(labState());
    d.term.resize(100, 30);
    expect(d.notes.filter((n) => n.type === 'terminal.resized').map((n) => n.type === 'terminal.resized' && [n.cols, n.rows])).toEqual([[100, 30]]);
  });
});
