/**
 * The real CLI in a virtual terminal: `hotslot dash` on a snapshot of a real 6.1 kernel's sysfs
 * (the lab host at boot), driven by keys through node-pty, read back through xterm.js.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { extractLabSnapshot, type LabSnapshot } from '../support/lab-snapshot.js';
import { CLI, startCli, type PtyScreen } from '../support/pty-screen.js';
import { KEY } from '../support/fake-tty.js';

let lab: LabSnapshot;
let screen: PtyScreen | undefined;

beforeAll(async () => {
  lab = await extractLabSnapshot('boot');
});
afterAll(() => lab?.remove());
afterEach(() => {
  screen?.kill();
  screen = undefined;
});

const LEAVE_ALTERNATE_SCREEN = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

const onLab = (...args: string[]) => ['--sysfs-root', lab.sysfsRoot, '--proc-root', lab.procRoot, 'dash', ...args];

describe('hotslot dash in a terminal', () => {
  it('shows the devices, filters, opens details, refuses a change when read-only, and quits with q and status 0', async () => {
    const s = (screen = startCli(onLab('--read-only')));
    await s.waitFor('Devices 16');
    expect(s.text()).toMatch(/Devices 16/);
    expect(s.lines()[0]).toContain('READ-ONLY');

    await s.press('/', ...'nvme', KEY.enter);
    await s.waitFor('Devices /nvme  1 of 16');
    expect(s.text()).not.toContain('0000:01:00.0');

    await s.press(KEY.enter);
    await s.waitFor('Assignable: no');
    expect(s.text()).toContain('Details 0000:03:00.0');
    expect(s.text()).toContain('flr bus');

    await s.press('a');
    await s.waitFor('read-only: attach is off (--read-only); nothing sent');

    await s.press('q');
    expect(await s.exited).toEqual({ exitCode: 0 });
  });

  it('leaves at once on Ctrl-C, from a dialog, and gives the terminal back', async () => {
    const s = (screen = startCli(onLab()));
    await s.waitFor('Devices 16');
    await s.press('?');
    await s.waitFor('Keys');
    await s.press(KEY.ctrlC);
    expect(await s.exited).toEqual({ exitCode: 0 });
    // Back to the normal screen, cursor shown.
    expect(s.output()).toContain(LEAVE_ALTERNATE_SCREEN);
    expect(s.output()).toContain(SHOW_CURSOR);
  });

  it('gives the terminal back and exits 143 on SIGTERM', async () => {
    const s = (screen = startCli(onLab()));
    await s.waitFor('Devices 16');
    s.kill('SIGTERM');
    expect(await s.exited).toEqual({ exitCode: 143 });
    expect(s.output()).toContain(LEAVE_ALTERNATE_SCREEN);
  });

  it('re-lays out when the terminal is resized', async () => {
    const s = (screen = startCli(onLab('--read-only')));
    await s.waitFor('Devices 16');
    s.resize(240, 60);
    await s.waitFor((t) => /BDF\s+VENDOR\s+NAME/.test(t));
    s.resize(80, 24);
    await s.waitFor((t) => !t.includes('VENDOR') && t.includes('Devices 16'));
    await s.press('q');
    expect((await s.exited).exitCode).toBe(0);
  });
});

describe('hotslot dash --theme', () => {
  let config: string;
  beforeAll(() => {
    config = mkdtempSync(join(tmpdir(), 'hotslot-dash-themes-'));
  });
  afterAll(() => rmSync(config, { recursive: true, force: true }));

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, XDG_CONFIG_HOME: config, ...env } });

  it('exits 2 naming the themes that exist when the theme is unknown', () => {
    const r = run(['dash', '--theme', 'neon']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('hotslot: unknown theme "neon"; themes: default, high-contrast, monochrome, solarized-dark\n');
  });

  it('exits 2 naming the file and the field of a malformed theme', () => {
    const dir = join(config, 'hotslot', 'themes');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ styles: { selected: { bg: 'ultraviolet' } } }));
    const r = run(['dash', '--theme', 'broken']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`hotslot: theme file ${join(dir, 'broken.json')}: styles.selected.bg: expected a colour`);
  });

  it('exits 2 when there is no terminal to draw on', () => {
    const r = run(['dash']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('dash needs a terminal');
  });
});
