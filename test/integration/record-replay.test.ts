import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { filter, firstValueFrom, lastValueFrom, timeout, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { reduce } from '../../src/core/reducer.js';
import { initialState, type HotslotState } from '../../src/core/state.js';
import { startDemoLab } from '../../src/demo/demo-lab.js';
import { liveSessionOn } from '../../src/demo/demo-session.js';
import { readRecording } from '../../src/record/reader.js';
import { Recorder } from '../../src/record/recorder.js';
import { replayEvents } from '../../src/record/replayer.js';
import { hotslot } from '../support/hotslot-cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hotslot-rec-'));

async function recordDemoSession(path: string): Promise<HotslotState[]> {
  const lab = await startDemoLab();
  const session = liveSessionOn(lab, { hostPollMs: 100, guestPollMs: 100 });
  const recorder = new Recorder({
    path,
    clock: systemClock,
    header: { hotslotVersion: 'test', host: 'demo-lab', user: 'tester', startedAt: new Date().toISOString(), terminal: { cols: 80, rows: 24 } },
  }).attach(session.bus.events$);
  const states: HotslotState[] = [];
  const sub = session.bus.state$.subscribe((s) => states.push(s));
  session.start();
  const until = (p: (s: HotslotState) => boolean) => firstValueFrom(session.bus.state$.pipe(filter(p), timeout(20_000)));
  try {
    await until((s) => Object.values(s.guests).filter((g) => g.connected).length === 3 && s.devices['0000:02:00.0'] !== undefined);
    session.sendIntent({ kind: 'attach', bdf: '0000:02:00.0', guest: 'web' });
    await until((s) => s.devices['0000:02:00.0']?.owner.guest === 'web');
    session.sendIntent({ kind: 'move', bdf: '0000:02:00.0', guest: 'db' });
    await until((s) => s.devices['0000:02:00.0']?.owner.guest === 'db');
    session.sendIntent({ kind: 'detach', bdf: '0000:02:00.0' });
    await until((s) => Object.values(s.operations).some((o) => o.op === 'detach' && o.outcome === 'done'));
  } finally {
    recorder.close();
    sub.unsubscribe();
    session.stop();
    await lab.stop();
  }
  // The first state is the initial one, before any event.
  return states.slice(1);
}

describe('record and replay', () => {
  it('replaying a recorded session through the reducer gives exactly the states the operator saw', async () => {
    const path = join(tmp(), 'session.jsonl');
    const seen = await recordDemoSession(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const rec = readRecording(path);
    expect(rec.problem).toBeNull();
    expect(rec.header).toMatchObject({ kind: 'hotslot-session', schema: 1, host: 'demo-lab', user: 'tester' });
    expect(rec.events.map((e) => e.event.type)).toEqual(expect.arrayContaining(['host.scanned', 'guest.connected', 'op.started', 'op.step', 'op.finished']));
    const replayed = await lastValueFrom(replayEvents(rec.events, { speed: Infinity }).pipe(toArray()));
    const states: HotslotState[] = [];
    let s = initialState;
    for (const e of replayed) states.push((s = reduce(s, e)));
    expect(states).toEqual(seen);
    expect(Object.values(states.at(-1)!.operations).map((o) => [o.op, o.outcome])).toEqual([
      ['attach', 'done'],
      ['move', 'done'],
      ['detach', 'done'],
    ]);
  });

  it('replay reaches no kernel port and no QMP client: its modules do not even load them', () => {
    const dist = resolve(import.meta.dirname, '../../dist');
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(['"](\.[^'"]+)['"]\)/g)) {
        walk(resolve(dirname(file), m[1] ?? m[2]));
      }
    };
    walk(join(dist, 'cli/replay-dashboard.js'));
    const reached = [...seen].map((f) => f.slice(dist.length + 1));
    expect(reached).toContain('record/replayer.js');
    expect(reached.filter((f) => /^(kernel|qmp|hotplug|guests|live|demo)\//.test(f))).toEqual([]);
  });

  it('replay --check names the line of a corrupt, a truncated and a future-schema recording, and keeps what came before', async () => {
    const dir = tmp();
    const good = join(dir, 'good.jsonl');
    await recordDemoSessionQuick(good);
    const lines = readFileSync(good, 'utf8').trimEnd().split('\n');

    const ok = await hotslot(['replay', good, '--check', '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, events: lines.length - 1 });

    const corrupt = join(dir, 'corrupt.jsonl');
    writeFileSync(corrupt, [...lines.slice(0, 4), '{"seq": oops', ...lines.slice(5)].join('\n') + '\n');
    const c = await hotslot(['replay', corrupt, '--check']);
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/corrupt\.jsonl:5: not JSON; the 3 events before it replay/);

    const truncated = join(dir, 'truncated.jsonl');
    writeFileSync(truncated, lines.slice(0, 6).join('\n') + '\n');
    appendFileSync(truncated, lines[6].slice(0, 20));
    const t = await hotslot(['replay', truncated, '--check']);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/truncated\.jsonl:7: the last line is cut short/);

    const future = join(dir, 'future.jsonl');
    writeFileSync(future, [lines[0].replace('"schema":1', '"schema":99'), ...lines.slice(1)].join('\n') + '\n');
    const f = await hotslot(['replay', future, '--check']);
    expect(f.status).toBe(2);
    expect(f.stderr).toMatch(/future\.jsonl:1: recorded with schema 99, newer than this hotslot reads \(1\)/);

    const missing = await hotslot(['replay', join(dir, 'nope.jsonl'), '--check']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });
});

/** A short recording written by the recorder itself, without a lab. */
async function recordDemoSessionQuick(path: string): Promise<void> {
  const clock = systemClock;
  const r = new Recorder({ path, clock, header: { hotslotVersion: 'test', host: 'h', user: 'u', startedAt: new Date().toISOString(), terminal: null } });
  for (let i = 0; i < 8; i++) {
    r.write({ type: 'guest.status', at: clock.now(), guest: 'vm1', runState: i % 2 ? 'running' : 'paused' });
    await new Promise((res) => setTimeout(res, 2));
  }
  r.close();
}

describe('shipped sample recordings', () => {
  it.each(['move-between-guests.jsonl', 'stuck-unplug-recovered.jsonl'])('%s is valid and replays its operations', async (name) => {
    const file = resolve(import.meta.dirname, '../../recordings', name);
    const r = await hotslot(['replay', file, '--check', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { ok: boolean; operations: number };
    expect(summary.ok).toBe(true);
    const outcomes = readRecording(file).events.flatMap((e) => (e.event.type === 'op.finished' ? [e.event.outcome] : []));
    expect(outcomes.length).toBe(summary.operations);
    if (name.startsWith('stuck')) expect(outcomes).toEqual(['done', 'stuck', 'done']);
    else expect(outcomes).toEqual(['done', 'done']);
  });
});
