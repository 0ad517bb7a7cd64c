import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { filter, firstValueFrom, merge, timeout } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { manualClock, systemClock } from '../../src/core/clock.js';
import { changesState, type HotslotEvent, type SessionRecord } from '../../src/core/events.js';
import { reduce } from '../../src/core/reducer.js';
import type { ReplayFrame } from '../../src/core/replay.js';
import { initialState, type HotslotState } from '../../src/core/state.js';
import { startDemoLab } from '../../src/demo/demo-lab.js';
import { liveSessionOn } from '../../src/demo/demo-session.js';
import { readRecording } from '../../src/record/reader.js';
import { Recorder } from '../../src/record/recorder.js';
import { Replayer, type ReplayTimers } from '../../src/record/replayer.js';
import { hotslot } from '../support/hotslot-cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hotslot-rec-'));
const header = { hotslotVersion: 'test', host: 'h', user: 'u', startedAt: new Date().toISOString(), terminal: null };
/** Timers that never fire: the replay moves only when told to. */
const stoppedTimers: ReplayTimers = { set: () => 0, clear: () => undefined };

/** Attaches, moves and detaches a device on the demo lab through a live session, recorded as `dash` records. */
async function recordDemoSession(path: string): Promise<HotslotState[]> {
  const lab = await startDemoLab();
  let recorder: Recorder | null = null;
  const session = liveSessionOn(lab, { hostPollMs: 100, guestPollMs: 100, beforeChange: () => recorder?.flush() });
  recorder = new Recorder({
    path,
    clock: systemClock,
    header: { hotslotVersion: 'test', host: 'demo-lab', user: 'tester', startedAt: new Date().toISOString(), terminal: { cols: 80, rows: 24 } },
  }).attach(merge(session.bus.events$, session.bus.notes$));
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

const recorded = { path: '', seen: [] as HotslotState[] };
async function demoRecording(): Promise<typeof recorded> {
  if (!recorded.path) {
    recorded.path = join(tmp(), 'session.jsonl');
    recorded.seen = await recordDemoSession(recorded.path);
  }
  return recorded;
}

const ofType = <T extends SessionRecord['type']>(records: SessionRecord[], type: T) => records.filter((r): r is Extract<SessionRecord, { type: T }> => r.type === type);

describe('record and replay', () => {
  it('replaying a recorded session through the reducer gives exactly the states the operator saw', async () => {
    const { path, seen } = await demoRecording();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const rec = await readRecording(path);
    expect(rec.problem).toBeNull();
    expect(rec.header).toMatchObject({ kind: 'hotslot-session', schema: 2, host: 'demo-lab', user: 'tester' });
    const events = rec.events.map((e) => e.event).filter(changesState);
    const states: HotslotState[] = [];
    let s = initialState;
    for (const e of events) states.push((s = reduce(s, e)));
    expect(states).toEqual(seen);
    const started = new Map(events.flatMap((e) => (e.type === 'op.started' ? [[e.opId, e.op] as const] : [])));
    expect(events.flatMap((e) => (e.type === 'op.finished' ? [[started.get(e.opId), e.outcome]] : []))).toEqual([
      ['attach', 'done'],
      ['move', 'done'],
      ['detach', 'done'],
    ]);

    // The replay shows the same states at each operation's start and end, and at both ends.
    const replayer = new Replayer({ events: rec.events, clock: manualClock(), timers: stoppedTimers });
    const frames: ReplayFrame[] = [];
    replayer.frames$.subscribe((f) => frames.push(f));
    replayer.start();
    let stops = 0;
    for (;;) {
      replayer.control({ kind: 'next-operation' });
      const f = frames.at(-1)!;
      if (f.position.index === frames.at(-2)!.position.index) break;
      expect(f.state).toEqual(states[f.position.index - 1]);
      expect(f.position.paused).toBe(true);
      stops++;
    }
    expect(stops).toBe(6);
    replayer.control({ kind: 'seek-to', to: 'start' });
    expect(frames.at(-1)!.rewound).toBe(true);
    expect(frames.at(-1)!.state).toEqual(states[frames.at(-1)!.position.index - 1]);
    expect(frames.at(-1)!.state.devices['0000:02:00.0'].owner.kind).toBe('host');
    replayer.control({ kind: 'seek-to', to: 'end' });
    expect(frames.at(-1)!.state).toEqual(seen.at(-1));
  });

  it('records the QMP traffic of each operation, each greeting and the intents, which a replay passes over', async () => {
    const { path } = await demoRecording();
    const records = (await readRecording(path)).events.map((e) => e.event);
    const sent = ofType(records, 'qmp.sent');
    const received = ofType(records, 'qmp.received');
    expect(received.filter((r) => 'QMP' in r.message).map((r) => r.guest).sort()).toEqual(['db', 'legacy', 'web']);
    const adds = sent.filter((r) => r.message.execute === 'device_add');
    expect(adds.map((r) => [r.guest, (r.message.arguments as { host: string }).host])).toEqual([
      ['web', '0000:02:00.0'],
      ['db', '0000:02:00.0'],
    ]);
    for (const add of adds) expect(received.find((r) => r.guest === add.guest && r.message.id === add.message.id)?.message).toHaveProperty('return');
    expect(sent.filter((r) => r.message.execute === 'device_del').map((r) => r.guest)).toEqual(['web', 'db']);
    expect(ofType(records, 'operator.intent').map((r) => r.intent)).toEqual([
      { kind: 'attach', bdf: '0000:02:00.0', guest: 'web' },
      { kind: 'move', bdf: '0000:02:00.0', guest: 'db' },
      { kind: 'detach', bdf: '0000:02:00.0' },
    ]);
    // The device_add goes out after its step starts and before it ends.
    const order = records.map((r) => (r.type === 'op.step' && r.step === 'device_add' ? `${r.step} ${r.status}` : r.type === 'qmp.sent' ? String(r.message.execute) : '')).filter((x) => x.startsWith('device_add'));
    expect(order.slice(0, 3)).toEqual(['device_add running', 'device_add', 'device_add ok']);
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
    await recordQuick(good);
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
    writeFileSync(future, [lines[0].replace('"schema":2', '"schema":99'), ...lines.slice(1)].join('\n') + '\n');
    const f = await hotslot(['replay', future, '--check']);
    expect(f.status).toBe(2);
    expect(f.stderr).toMatch(/future\.jsonl:1: recorded with schema 99, newer than this hotslot reads \(2\)/);

    // Valid JSON with a kind's field missing would break the replay: it is named like a torn line.
    const hollow = join(dir, 'hollow.jsonl');
    writeFileSync(hollow, [...lines.slice(0, 3), lines[3].replace(/"guest":"vm1",/, ''), ...lines.slice(4)].join('\n') + '\n');
    const h = await hotslot(['replay', hollow, '--check']);
    expect(h.status).toBe(2);
    expect(h.stderr).toMatch(/hollow\.jsonl:4: a guest\.status event whose guest is not a string; the 2 events before it replay/);

    const missing = await hotslot(['replay', join(dir, 'nope.jsonl'), '--check']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('passes over kinds it does not know, and the replay is the same without them', async () => {
    const dir = tmp();
    const path = join(dir, 'newer.jsonl');
    await recordQuick(path);
    const stateOf = async () => (await readRecording(path)).events.map((e) => e.event).filter(changesState).reduce(reduce, initialState);
    const before = await stateOf();
    const [head, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
    // A later hotslot adds a kind of note: its lines take their place in the sequence.
    const { t, event } = JSON.parse(lines[1]) as { t: number; event: { at: number } };
    const renumbered = [...lines.slice(0, 2), JSON.stringify({ seq: 2, t, wall: new Date().toISOString(), event: { type: 'gpu.temperature', at: event.at, celsius: 71 } })];
    for (const l of lines.slice(2)) {
      const o = JSON.parse(l) as { seq: number };
      renumbered.push(JSON.stringify({ ...o, seq: o.seq + 1 }));
    }
    writeFileSync(path, [head, ...renumbered].join('\n') + '\n');
    const r = await hotslot(['replay', path, '--check', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, events: lines.length, skipped: 1 });
    const rec = await readRecording(path);
    expect(rec.events.map((e) => e.event.type)).not.toContain('gpu.temperature');
    expect(await stateOf()).toEqual(before);
  });

  it('a file started by rotation says where the session stood, and replays to the same state on its own', async () => {
    const dir = tmp();
    const path = join(dir, 'rotating.jsonl');
    const clock = manualClock(0);
    const r = new Recorder({ path, clock, header, maxBytes: 3000, keep: 9 });
    const all: HotslotEvent[] = [];
    const write = (e: HotslotEvent) => {
      all.push(e);
      r.write(e);
      clock.advance(10);
    };
    write({ type: 'guest.connected', at: 0, guest: 'vm1', qemuVersion: '10.0.0', runState: 'running' });
    for (let i = 0; i < 12; i++) {
      write({ type: 'op.started', at: clock.now(), opId: `op${i}`, op: 'return', bdfs: ['0000:02:00.0'] });
      r.write({ type: 'qmp.sent', at: clock.now(), guest: 'vm1', message: { execute: 'query-pci', id: i } });
      write({ type: 'op.finished', at: clock.now(), opId: `op${i}`, outcome: 'done', message: `round ${i}` });
    }
    r.close();
    expect(statSync(`${path}.1`).size).toBeGreaterThan(0);
    const last = await readRecording(path);
    expect(last.problem).toBeNull();
    expect(last.header.continued?.seq).toBeGreaterThan(0);
    expect(last.events[0].seq).toBe(last.header.continued!.seq);
    const full = all.reduce(reduce, initialState);
    const replayer = new Replayer({ events: last.events, initial: last.header.continued!.state, clock, timers: stoppedTimers });
    const frames: ReplayFrame[] = [];
    replayer.frames$.subscribe((f) => frames.push(f));
    replayer.start();
    replayer.control({ kind: 'seek-to', to: 'end' });
    expect(frames.at(-1)!.state).toEqual(full);
  });

  it('still reads and replays a schema 1 recording', async () => {
    const file = resolve(import.meta.dirname, '../fixtures/recordings/schema-1-move-between-guests.jsonl');
    const r = await hotslot(['replay', file, '--check', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, schema: 1, operations: 2, notes: 0 });
    const rec = await readRecording(file);
    const end = rec.events.map((e) => e.event).filter(changesState).reduce(reduce, initialState);
    expect(end.devices['0000:03:00.0'].owner).toMatchObject({ kind: 'guest', guest: 'db' });
  });
});

/** A short recording written by the recorder itself, without a lab. */
async function recordQuick(path: string): Promise<void> {
  const clock = systemClock;
  const r = new Recorder({ path, clock, header });
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
    const summary = JSON.parse(r.stdout) as { ok: boolean; operations: number; schema: number };
    expect(summary).toMatchObject({ ok: true, schema: 2 });
    const records = (await readRecording(file)).events.map((e) => e.event);
    const outcomes = ofType(records, 'op.finished').map((e) => e.outcome);
    expect(outcomes.length).toBe(summary.operations);
    // Made through the dashboard: the operator's answers, the intents they sent, and the QMP traffic are in it.
    expect(ofType(records, 'operator.answer').length).toBeGreaterThanOrEqual(2);
    expect(ofType(records, 'operator.intent').length).toBe(2);
    expect(ofType(records, 'qmp.sent').some((m) => m.message.execute === 'device_add')).toBe(true);
    if (name.startsWith('stuck')) expect(outcomes).toEqual(['done', 'stuck', 'done']);
    else {
      expect(outcomes).toEqual(['done', 'done']);
      expect(ofType(records, 'operator.answer').map((a) => `${a.question} ${a.answer}`)).toEqual(['Attach yes', 'Move no', 'Move yes']);
      expect(ofType(records, 'terminal.resized').map((e) => [e.cols, e.rows])).toEqual([[100, 30]]);
      const end = records.filter(changesState).reduce(reduce, initialState);
      expect(end.devices['0000:03:00.0'].owner).toMatchObject({ kind: 'guest', guest: 'db' });
    }
  });
});
