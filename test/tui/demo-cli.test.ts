import { afterEach, describe, expect, it } from 'vitest';
import { KEY } from '../support/fake-tty.js';
import { startCli, type PtyScreen } from '../support/pty-screen.js';

/** The real CLI in a virtual terminal, on the built-in demo lab: no root, no QEMU, no hardware. */
let screen: PtyScreen | null = null;

afterEach(() => {
  screen?.kill('SIGKILL');
  screen = null;
});

const rowOf = (s: PtyScreen, bdf: string) => s.lines().find((l) => l.includes(bdf)) ?? '';

describe('hotslot demo in a terminal', () => {
  it('attaches a device to a guest with the keys, shows the new owner, moves it, detaches it, and quits with 0', async () => {
    const s = (screen = startCli(['demo', '--no-record'], { cols: 120, rows: 36 }));
    await s.waitFor('DEMO', 20_000);
    await s.waitFor(/guests 3\/3/, 20_000);

    await s.press('/', ...'02:00', KEY.enter);
    await s.waitFor('1 of 17');
    expect(rowOf(s, '0000:02:00.0')).toMatch(/e1000e\s+host/);

    // a: pick the guest (db, legacy, web), then confirm; the dialog's default is No.
    await s.press('a');
    await s.waitFor('to which guest?');
    await s.press(KEY.down, KEY.down, KEY.enter);
    await s.waitFor(/to guest web\?/);
    expect(s.text()).toMatch(/\[ No \]/);
    await s.press('y');
    await s.waitFor(() => /vfio-pci\s+web/.test(rowOf(s, '0000:02:00.0')), 20_000);

    await s.press('m');
    await s.waitFor('to which guest?');
    await s.press(KEY.enter);
    await s.waitFor(/to guest db\?/);
    await s.press('y');
    await s.waitFor(() => /vfio-pci\s+db/.test(rowOf(s, '0000:02:00.0')), 20_000);

    await s.press('d');
    await s.waitFor(/Detach/);
    await s.press('y');
    await s.waitFor(() => /e1000e\s+host/.test(rowOf(s, '0000:02:00.0')), 20_000);

    await s.press('q');
    expect(await s.exited).toEqual({ exitCode: 0 });
  });
});
