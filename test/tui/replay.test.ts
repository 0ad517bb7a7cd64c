import { afterEach, describe, expect, it } from 'vitest';
import { KEY } from '../support/fake-tty.js';
import { replaySession } from './fixtures.js';
import { openReplay, type ReplayHarness } from './harness.js';

/** The dashboard replaying a recorded session (fixtures: attach of 0000:03:00.0 to vm1 at 5 s, its detach at 25 s, 40 s in all). */
let h: ReplayHarness | undefined;
afterEach(() => h?.close());
const open = (...args: Parameters<typeof openReplay>) => (h = openReplay(...args));

const NVME = '0000:03:00.0';
const bar = (d: ReplayHarness) => d.lines()[d.lines().length - 1];
/** The NVMe drive's row: its driver and owner columns say where it is. */
const nvmeRow = (d: ReplayHarness) => d.row(`│${NVME}`) ?? '';
const onHost = /nvme\s+host/;
const withVm1 = /vfio-pci\s+vm1/;
const logPane = (d: ReplayHarness) => d.lines().filter((l) => /^│\s+\+\d/.test(l)).join('\n');

describe('replay in the dashboard', () => {
  it('says it is a replay, where it is, at what speed, and offers the replay keys', async () => {
    const d = open(replaySession());
    expect(d.header()).toContain('REPLAY playing 0:00.0/0:40.0');
    expect(d.header()).toContain('recorded 2026-11-21 08:55 UTC');
    expect(d.header()).not.toContain('READ-ONLY');
    d.advance(2_000);
    expect(d.header()).toContain('REPLAY playing 0:02.0/0:40.0');
    await d.press('+');
    d.advance(1_000);
    expect(d.header()).toContain('REPLAY playing 0:04.0/0:40.0 x2');
    expect(bar(d)).toMatch(/Space pause .*n next op .*→ \+10s .*← -10s/);
    expect(bar(d)).not.toContain('attach');
  });

  it('plays at the recorded pace: the attach shows when its time comes', () => {
    const d = open(replaySession());
    expect(nvmeRow(d)).toMatch(onHost);
    d.advance(5_300);
    expect(d.header()).toContain('attach 0000:03:00.0 → vm1: device_add');
    d.advance(500);
    expect(nvmeRow(d)).toMatch(withVm1);
    expect(logPane(d)).toContain('attach 0000:03:00.0 → vm1 done');
  });

  it('Space pauses: however long one waits, the position and the screen stay; Space plays on', async () => {
    const d = open(replaySession());
    d.advance(1_000);
    await d.press(' ');
    expect(d.header()).toContain('REPLAY PAUSED 0:01.0/0:40.0');
    d.advance(30_000);
    expect(d.header()).toContain('REPLAY PAUSED 0:01.0/0:40.0');
    expect(nvmeRow(d)).toMatch(onHost);
    await d.press(' ');
    d.advance(5_000);
    expect(d.header()).toContain('REPLAY playing 0:06.0/0:40.0');
    expect(nvmeRow(d)).toMatch(withVm1);
  });

  it("n steps to the next operation's start, then to its end, paused; p steps back", async () => {
    const d = open(replaySession());
    await d.press('n');
    expect(d.header()).toContain('REPLAY PAUSED 0:05.0/0:40.0');
    expect(d.header()).toContain('attach 0000:03:00.0 → vm1: starting');
    expect(nvmeRow(d)).toMatch(onHost);
    d.advance(10_000);
    expect(d.header()).toContain('0:05.0/');
    await d.press('n');
    expect(d.header()).toContain('REPLAY PAUSED 0:05.7/0:40.0');
    expect(nvmeRow(d)).toMatch(withVm1);
    expect(logPane(d)).toContain('attach 0000:03:00.0 → vm1 done');
    await d.press('n');
    expect(d.header()).toContain('REPLAY PAUSED 0:25.0/0:40.0');
    expect(d.header()).toContain('detach 0000:03:00.0 ← vm1');
    await d.press('p', 'p');
    expect(d.header()).toContain('REPLAY PAUSED 0:05.0/0:40.0');
    expect(nvmeRow(d)).toMatch(onHost);
  });

  it('Home goes back to the start: the state is derived again from the events, the device is back on the host and the log starts over', async () => {
    const d = open(replaySession());
    await d.press('n', 'n');
    expect(nvmeRow(d)).toMatch(withVm1);
    await d.press(KEY.home);
    expect(d.header()).toContain('REPLAY PAUSED 0:00.0/0:40.0');
    expect(nvmeRow(d)).toMatch(onHost);
    expect(logPane(d)).toContain('scan: 7 devices');
    expect(logPane(d)).not.toContain('attach');
    // g still goes to the first row, as it does live.
    await d.press('j', 'j', 'g');
    expect(d.text()).toContain('Details 0000:00:00.0');
  });

  it('→ and ← move 10 s either way, End shows the last state and says the replay has ended', async () => {
    const d = open(replaySession());
    await d.press(' ', KEY.right);
    expect(d.header()).toContain('REPLAY PAUSED 0:10.0/0:40.0');
    expect(nvmeRow(d)).toMatch(withVm1);
    await d.press(KEY.right, KEY.right);
    expect(d.header()).toContain('0:30.0/');
    expect(nvmeRow(d)).toMatch(onHost);
    await d.press(KEY.left);
    expect(d.header()).toContain('0:20.0/');
    expect(nvmeRow(d)).toMatch(withVm1);
    expect(logPane(d)).not.toContain('detach');
    await d.press(KEY.end);
    expect(d.header()).toContain('REPLAY ended 0:40.0/0:40.0');
    expect(nvmeRow(d)).toMatch(onHost);
    // Space at the end plays it again from the start.
    await d.press(' ');
    expect(d.header()).toContain('REPLAY playing 0:00.0/0:40.0');
  });

  it('a recording cut short says so when the replay reaches its end', async () => {
    const d = open(replaySession(), { endNote: 'the recording ends early, at line 19: the last line is cut short (truncated recording)' });
    await d.press(KEY.end);
    expect(bar(d)).toContain('the recording ends early, at line 19');
  });

  it('changes nothing: the changing keys say it is a replay, and q leaves at once, even mid-operation', async () => {
    const d = open(replaySession());
    await d.press('n', 'j', 'j', 'j', 'a');
    expect(bar(d)).toContain('replay: attach is off; a replay only shows what happened');
    await d.press(':');
    await d.type('detach 0000:03:00.0');
    await d.press(KEY.enter);
    expect(bar(d)).toContain('replay: detach is off');
    await d.press('q');
    expect(d.sent).toEqual([]);
    expect(d.exits).toEqual([0]);
  });

  it('the help says it is a replay and lists its keys first', async () => {
    const d = open(replaySession());
    await d.press('?');
    const text = d.text();
    expect(text).toContain('This is a replay of a recorded session');
    for (const words of ['Space          pause or play the replay', 'n              to the next start or end of an operation', 'Home           to the start of the recording', 'End            to the end of the recording', '→              10 s forward']) {
      expect(text).toContain(words);
    }
    expect(text).toContain('g              go to the first row');
    expect(text).toContain('(off: replay)');
  });
});
