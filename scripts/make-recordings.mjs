#!/usr/bin/env node
// Makes the sample sessions in recordings/ by running hotslot itself on the demo lab: the live
// session carries out the operator's intents and the recorder writes what happened.
//   npm run build && node scripts/make-recordings.mjs
import { join } from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { systemClock } from '../dist/core/clock.js';
import { startDemoLab } from '../dist/demo/demo-lab.js';
import { liveSessionOn } from '../dist/demo/demo-session.js';
import { Recorder } from '../dist/record/recorder.js';
import { VERSION } from '../dist/cli/version.js';

const out = join(import.meta.dirname, '..', 'recordings');

async function record(name, story) {
  const lab = await startDemoLab();
  const session = liveSessionOn(lab, { hostPollMs: 500, guestPollMs: 500, timeouts: { unplugMs: 4_000, resendAfterMs: 2_000 } });
  const recorder = new Recorder({
    path: join(out, name),
    clock: systemClock,
    header: { hotslotVersion: VERSION, host: 'demo-lab (simulated)', user: 'operator', startedAt: new Date().toISOString(), terminal: { cols: 120, rows: 36 } },
  }).attach(session.bus.events$);
  session.start();
  const until = (p) => firstValueFrom(session.bus.state$.pipe(filter(p), timeout(30_000)));
  const pause = (ms) => new Promise((r) => setTimeout(r, ms));
  try {
    await until((s) => Object.values(s.guests).filter((g) => g.connected).length === 3);
    await pause(1_000);
    await story({ session, lab, until, pause });
    await pause(1_500);
  } finally {
    recorder.close();
    session.stop();
    await lab.stop();
  }
  console.log(`wrote recordings/${name}`);
}

await record('move-between-guests.jsonl', async ({ session, until, pause }) => {
  session.sendIntent({ kind: 'attach', bdf: '0000:03:00.0', guest: 'web' });
  await until((s) => s.devices['0000:03:00.0']?.owner.guest === 'web');
  await pause(2_000);
  session.sendIntent({ kind: 'move', bdf: '0000:03:00.0', guest: 'db' });
  await until((s) => s.devices['0000:03:00.0']?.owner.guest === 'db');
});

await record('stuck-unplug-recovered.jsonl', async ({ session, lab, until, pause }) => {
  session.sendIntent({ kind: 'attach', bdf: '0000:02:00.0', guest: 'legacy' });
  await until((s) => s.devices['0000:02:00.0']?.owner.guest === 'legacy');
  await pause(1_000);
  session.sendIntent({ kind: 'detach', bdf: '0000:02:00.0' });
  await until((s) => Object.values(s.operations).some((o) => o.op === 'detach' && o.outcome === 'stuck'));
  await pause(1_000);
  // The operator shuts the guest down; hotslot returns its devices to the host.
  await lab.guests.find((g) => g.opts.name === 'legacy').stop();
  await until((s) => Object.values(s.operations).some((o) => o.op === 'return' && o.outcome === 'done'));
});
