import { afterEach, describe, expect, it } from 'vitest';
import type { HotslotEvent } from '../../src/core/events.js';
import { build, labState, makeDevice, withHeldDevice } from './fixtures.js';
import { openDashboard, type Harness } from './harness.js';
import { KEY } from '../support/fake-tty.js';

let h: Harness | undefined;
afterEach(() => h?.close());

const open = (...args: Parameters<typeof openDashboard>) => (h = openDashboard(...args));

/** An attach of 0000:03:00.0 to vm1 that has done two steps and is in its third. */
function attachRunning(at = 100): HotslotEvent[] {
  return [
    { type: 'op.started', at, opId: 'op1', op: 'attach', bdfs: ['0000:03:00.0'], guest: 'vm1' },
    { type: 'op.step', at: at + 1, opId: 'op1', step: 'unbind', bdf: '0000:03:00.0', status: 'running' },
    { type: 'op.step', at: at + 13, opId: 'op1', step: 'unbind', bdf: '0000:03:00.0', status: 'ok', ms: 12 },
    { type: 'op.step', at: at + 14, opId: 'op1', step: 'reset flr', bdf: '0000:03:00.0', status: 'ok', ms: 104 },
    { type: 'op.step', at: at + 120, opId: 'op1', step: 'bind vfio-pci', bdf: '0000:03:00.0', status: 'running' },
  ];
}

describe('header', () => {
  it('names the host, the kernel, the IOMMU, the guests connected, and that nothing runs', () => {
    const d = open(labState());
    const header = d.lines()[0];
    expect(header).toContain('labhost');
    expect(header).toContain('kernel 6.1.0-13-amd64');
    expect(header).toContain('IOMMU on');
    expect(header).toContain('guests 2/3');
    expect(header).toContain('idle');
  });

  it('shows the operation in progress with its step and elapsed time, and READ-ONLY when so started', () => {
    const d = open(build(attachRunning(), labState()), { readOnly: true });
    const header = d.lines()[0];
    expect(header).toContain('attach 0000:03:00.0 → vm1: bind vfio-pci');
    expect(header).toContain('READ-ONLY');
  });

  it('says IOMMU off when the host has none', () => {
    const d = open(build([{ type: 'host.scanned', at: 1, iommu: false, devices: [makeDevice('0000:02:00.0')] }]));
    expect(d.lines()[0]).toContain('IOMMU off');
  });
});

describe('devices table', () => {
  it('has a row per device with BDF, name, driver, owner, group, interrupt mode, reset and the assignable mark', () => {
    const d = open(withHeldDevice(labState()));
    expect(d.text()).toMatch(/BDF\s+NAME\s+DRIVER\s+OWNER\s+GRP IRQ\s+RESET A/);
    expect(d.row('0000:03:00.0')).toMatch(/0000:03:00\.0 QEMU NVM Express Controller\s+nvme\s+host\s+9 msix flr\s+✓/);
    expect(d.row('0000:02:00.0')).toMatch(/0000:02:00\.0 82574L Gigabit Network Con…\s+vfio-pci\s+vm1\s+8 msix pm\s+✓/);
    expect(d.row('0000:00:00.0')).toMatch(/-\s+-\s+0 none none\s+✗/);
    expect(d.row('0000:05:01.0')).toContain(' intx ');
  });

  it('shows the running operation in its row: the step, the elapsed time and a spinner that turns', () => {
    const d = open(build(attachRunning(), labState()));
    const before = d.row('│0000:03:00.0') ?? '';
    expect(before).toMatch(/[-\\|/] 120 ms bind vfio-pci/);
    d.clock.advance(1600);
    d.dash.render();
    const after = d.row('│0000:03:00.0') ?? '';
    expect(after).toContain('1.7 s bind vfio-pci');
    expect(after.at(-2)).not.toBe(before.at(-2));
  });

  it('marks a stuck device and offers retry and force-return in the bar', async () => {
    const stuck = build(
      [
        { type: 'op.started', at: 100, opId: 'op2', op: 'detach', bdfs: ['0000:02:00.0'], fromGuest: 'vm1' },
        { type: 'op.step', at: 101, opId: 'op2', step: 'device_del', bdf: '0000:02:00.0', status: 'running' },
        { type: 'op.finished', at: 30_000, opId: 'op2', outcome: 'stuck', message: 'vm1 did not release it after 30 s' },
      ],
      withHeldDevice(labState()),
    );
    const d = open(stuck);
    expect(d.row('0000:02:00.0')).toMatch(/STUCK detach: vm1 did not .*!│$/);
    await d.press('j', 'j');
    const bar = d.lines()[23];
    expect(bar).toContain('t retry');
    expect(bar).toContain('X force-return');
  });

  it('draws only the rows that fit, even with thousands of devices', () => {
    const many = Array.from({ length: 4096 }, (_, i) => makeDevice(`0000:${(i >> 5).toString(16).padStart(2, '0')}:${(i & 31).toString(16).padStart(2, '0')}.0`));
    const d = open(build([{ type: 'host.scanned', at: 1, iommu: true, devices: many }]));
    expect(d.text()).toContain('Devices 4096');
    const boxes = d.dash.screen.children as unknown as Array<{ getContent(): string }>;
    const content = boxes.map((b) => b.getContent()).find((c) => c.includes('BDF'));
    expect(content, 'the devices table is drawn').toBeDefined();
    expect(content!.split('\n').length).toBeLessThanOrEqual(9);
  });
});

describe('guests pane', () => {
  it('lists each guest with run state, QEMU version, devices held and free hotplug slots', () => {
    const d = open(withHeldDevice(labState()));
    expect(d.row('│vm1 ')).toMatch(/vm1\s+running\s+7\.2\.0\s+1\s+1│/);
    expect(d.row('│vm2 ')).toMatch(/vm2\s+running\s+7\.2\.0\s+0\s+1│/);
    expect(d.row('│vm3 ')).toMatch(/vm3\s+gone\s+7\.2\.0\s+0\s+0│/);
    expect(d.text()).toContain('Guests 2/3');
  });
});

describe('details pane', () => {
  it('says what check says: reasons, group members and their drivers, interrupts, reset methods, capabilities', async () => {
    const d = open(labState(), { cols: 120, rows: 50 });
    await d.press('G', KEY.enter);
    const text = d.text();
    expect(text).toContain('Details 0000:05:02.0');
    expect(text).toContain('IOMMU group 11');
    expect(text).toMatch(/0000:04:00\.0\s+\(none\)\s+bridge/);
    expect(text).toMatch(/0000:05:01\.0\s+e1000\s+82540EM/);
    expect(text).toMatch(/0000:05:02\.0\s+e1000\s+\(this device\)/);
    expect(text).toContain('msix in use, MSI-X on (table 5)');
    expect(text).toContain('none (FLR no, AF FLR no, bus reset not possible)');
    expect(text).toContain('0x0e0 PCI Express');
  });

  it('gives the reasons a device cannot be assigned', async () => {
    const d = open(labState(), { cols: 120, rows: 50 });
    await d.press('j', KEY.enter);
    expect(d.text()).toContain('Assignable: no');
    expect(d.text()).toContain('- protected because the default route goes through it (enp1s0) (protected)');
  });

  it("shows the selected guest's devices and free slots when the guests pane has the focus", async () => {
    const d = open(withHeldDevice(labState()), { cols: 120, rows: 50 });
    await d.press(KEY.tab, KEY.enter);
    const text = d.text();
    expect(text).toContain('Guest vm1');
    expect(text).toMatch(/0000:02:00\.0\s+hostdev0\s+82574L/);
    expect(text).toContain('Free hotplug slots: 1');
    expect(text).toContain('rp2');
  });

  it("lists an operation's steps with their times", async () => {
    const d = open(build(attachRunning(), labState()), { cols: 120, rows: 50 });
    await d.press('j', 'j', 'j', KEY.enter);
    const text = d.text();
    expect(text).toMatch(/ok\s+unbind\s+12 ms/);
    expect(text).toMatch(/ok\s+reset flr\s+104 ms/);
    expect(text).toMatch(/> running\s+bind vfio-pci/);
  });
});

describe('event log', () => {
  it('shows QMP events, sysfs changes and each operation step with its time', () => {
    const d = open(labState(), { cols: 120, rows: 40 });
    const dev = labState().devices['0000:03:00.0'];
    d.emit(
      ...attachRunning(1000),
      { type: 'host.device.changed', at: 1200, device: { ...dev, driver: 'vfio-pci', owner: { kind: 'vfio' } }, fields: ['driver'] },
      { type: 'qmp.event', at: 1300, guest: 'vm1', event: 'DEVICE_DELETED', data: { device: 'hostdev0', path: '/machine/peripheral/hostdev0' }, qemuTime: null },
      { type: 'op.finished', at: 1400, opId: 'op1', outcome: 'done', message: 'attached as hostdev1' },
    );
    const text = d.text();
    expect(text).toMatch(/\+0\.0s op\s+attach 0000:03:00\.0 → vm1 started/);
    expect(text).toMatch(/op\s+attach 0000:03:00\.0 → vm1: unbind ok 12 ms/);
    expect(text).toMatch(/\+0\.2s sysfs 0000:03:00\.0 driver vfio-pci/);
    expect(text).toMatch(/\+0\.3s qmp\s+vm1 DEVICE_DELETED hostdev0/);
    expect(text).toMatch(/attach 0000:03:00\.0 → vm1 done: attached as hostdev1/);
  });
});

describe('interrupt sparkline', () => {
  it("draws the selected device's interrupt rate from the differences between counts", () => {
    const d = open(labState());
    d.emit(...[1000, 1010, 1030, 1030, 1090].map((n, i): HotslotEvent => ({ type: 'host.interrupts', at: 10 + i, counts: { '0000:00:00.0': n } })));
    const text = d.text();
    expect(text).toContain('00:00.0 now 60 max 60');
    expect(text).toContain('▂▃▁█');
  });
});

describe('bottom bar', () => {
  it('says so when the state stream fails, and keeps the last state on screen', () => {
    const d = open(labState());
    d.state$.error(new Error('host watcher died'));
    expect(d.lines()[23]).toContain('updates stopped: host watcher died');
    expect(d.text()).toContain('Devices 7');
  });

  it('shows the keys of the current view', async () => {
    const d = open(labState());
    expect(d.lines()[23]).toMatch(/Enter details .*\/ filter .*a attach .*\? help .*q quit/);
    await d.press(KEY.enter);
    expect(d.lines()[23]).toMatch(/Esc back/);
    expect(d.lines()[23]).not.toContain('Enter details');
  });
});
