#!/usr/bin/env node
// Makes the sample sessions in recordings/ by running hotslot itself on the demo lab: the
// dashboard, in an in-memory terminal, is typed at as an operator would (a `:` command, then y
// to the question); the live session carries it out and the recorder writes everything, QMP
// traffic, answers and a terminal resize included.
//   npm run build && node scripts/make-recordings.mjs
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { filter, firstValueFrom, merge, timeout } from 'rxjs';
import { systemClock } from '../dist/core/clock.js';
import { startDemoLab } from '../dist/demo/demo-lab.js';
import { liveSessionOn } from '../dist/demo/demo-session.js';
import { Recorder } from '../dist/record/recorder.js';
import { startDashboard } from '../dist/tui/dashboard.js';
import { loadTheme } from '../dist/tui/theme.js';
import { VERSION } from '../dist/cli/version.js';

const out = join(import.meta.dirname, '..', 'recordings');
const COLS = 120;
const ROWS = 36;
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

async function record(name, story) {
  const lab = await startDemoLab();
  let recorder = null;
  const session = liveSessionOn(lab, {
    hostPollMs: 500,
    guestPollMs: 500,
    timeouts: { unplugMs: 4_000, resendAfterMs: 2_000 },
    beforeChange: () => recorder?.flush(),
  });
  recorder = new Recorder({
    path: join(out, name),
    clock: systemClock,
    header: { hotslotVersion: VERSION, host: 'demo-lab (simulated)', user: 'operator', startedAt: new Date().toISOString(), terminal: { cols: COLS, rows: ROWS } },
  }).attach(merge(session.bus.events$, session.bus.notes$));
  const input = Object.assign(new PassThrough(), { isTTY: true });
  const output = Object.assign(new PassThrough(), { isTTY: true, columns: COLS, rows: ROWS });
  output.resume();
  const dash = startDashboard({
    state$: session.bus.state$,
    events$: session.bus.events$,
    sendIntent: (i) => session.sendIntent(i),
    note: (n) => session.bus.note(n),
    readOnly: false,
    theme: loadTheme('default'),
    header: { host: 'demo-lab (simulated)', kernel: 'simulated 6.1', mode: 'demo' },
    input,
    output,
    terminal: 'xterm-256color',
    onExit: () => undefined,
  });
  const operator = {
    /** Types each key as its own read, as a terminal sends them. */
    async keys(...keys) {
      for (const k of keys) {
        input.write(k);
        await pause(40);
      }
    },
    /** A `:` command, then the answer to its question. */
    async command(line, answer) {
      await operator.keys(':', ...line, '\r');
      await pause(600);
      await operator.keys(answer);
    },
    resize(cols, rows) {
      output.columns = cols;
      output.rows = rows;
      output.emit('resize');
    },
  };
  session.start();
  const until = (p) => firstValueFrom(session.bus.state$.pipe(filter(p), timeout(30_000)));
  try {
    await until((s) => Object.values(s.guests).filter((g) => g.connected).length === 3);
    await pause(1_000);
    await story({ operator, lab, until });
    await pause(1_500);
  } finally {
    dash.stop();
    recorder.close();
    session.stop();
    await lab.stop();
  }
  console.log(`wrote recordings/${name}`);
}

await record('move-between-guests.jsonl', async ({ operator, until }) => {
  await operator.command('attach 0000:03:00.0 web', 'y');
  await until((s) => s.devices['0000:03:00.0']?.owner.guest === 'web');
  await pause(2_000);
  // The operator thinks twice about the move, then makes it.
  await operator.command('move 0000:03:00.0 db', 'n');
  await pause(800);
  operator.resize(100, 30);
  await pause(800);
  await operator.command('move 0000:03:00.0 db', 'y');
  await until((s) => s.devices['0000:03:00.0']?.owner.guest === 'db');
});

await record('stuck-unplug-recovered.jsonl', async ({ operator, lab, until }) => {
  await operator.command('attach 0000:02:00.0 legacy', 'y');
  await until((s) => s.devices['0000:02:00.0']?.owner.guest === 'legacy');
  await pause(1_000);
  await operator.command('detach 0000:02:00.0', 'y');
  await until((s) => Object.values(s.operations).some((o) => o.op === 'detach' && o.outcome === 'stuck'));
  await pause(1_000);
  // The operator shuts the guest down; hotslot returns its devices to the host.
  await lab.guests.find((g) => g.opts.name === 'legacy').stop();
  await until((s) => Object.values(s.operations).some((o) => o.op === 'return' && o.outcome === 'done'));
});
