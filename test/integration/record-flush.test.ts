import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom, merge, ReplaySubject, skip, timeout } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { startDemoLab, type DemoLab } from '../../src/demo/demo-lab.js';
import { Journal } from '../../src/hotplug/journal.js';
import type { KernelPort } from '../../src/kernel/index.js';
import { LiveSession } from '../../src/live/live-session.js';
import { unixEndpoint } from '../../src/qmp/index.js';
import { Recorder } from '../../src/record/recorder.js';

/** Every fsync, with the file (inode) and how many of its bytes were on disk once it returned. */
const syncs = vi.hoisted(() => [] as { ino: number; size: number }[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const fsyncSync = (fd: number) => {
    fs.fsyncSync(fd);
    const st = fs.fstatSync(fd);
    syncs.push({ ino: st.ino, size: st.size });
  };
  return { ...fs, fsyncSync, default: { ...fs, fsyncSync } };
});

const WRITES = new Set(['unbind', 'setDriverOverride', 'clearDriverOverride', 'driversProbe', 'reset', 'setNumVfs']);

/** The port as it is, calling `onWrite` as each write begins. */
function watchingWrites(port: KernelPort, onWrite: (op: string, bdf: string) => void): KernelPort {
  return new Proxy(port, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof name !== 'string' || !WRITES.has(name) || typeof value !== 'function') return value;
      return (bdf: string, ...rest: unknown[]) => {
        onWrite(name, bdf);
        return (value as (...a: unknown[]) => unknown).call(target, bdf, ...rest);
      };
    },
  });
}

/** What one change found in the recording as it began. */
interface Seen {
  what: string;
  /** Lines about operations written but not yet on disk. */
  opLinesNotOnDisk: number;
  /** The newest line about an operation that is on disk: `op.step unbind running`. */
  lastOnDisk: string;
}

let lab: DemoLab | null = null;
let session: LiveSession | null = null;
afterEach(async () => {
  session?.stop();
  await lab?.stop();
  lab = session = null;
});

describe('session recording and destructive steps', () => {
  it('what led up to each sysfs write and each device_add or device_del is on disk before it begins, rollbacks included', async () => {
    lab = await startDemoLab();
    const path = join(mkdtempSync(join(tmpdir(), 'hotslot-flush-')), 'session.jsonl');
    const seen: Seen[] = [];
    const look = (what: string) => {
      const written = readFileSync(path);
      const ino = statSync(path).ino;
      const synced = syncs.filter((s) => s.ino === ino).at(-1)?.size ?? 0;
      const opLines = (text: string) => text.split('\n').filter((l) => /"type":"op\./.test(l));
      const last = opLines(written.subarray(0, synced).toString()).at(-1);
      const e = last ? (JSON.parse(last) as { event: { type: string; step?: string; status?: string } }).event : null;
      seen.push({ what, opLinesNotOnDisk: opLines(written.subarray(synced).toString()).length, lastOnDisk: e ? [e.type, e.step, e.status].filter(Boolean).join(' ') : '' });
    };
    let recorder: Recorder | null = null;
    const s = (session = new LiveSession({
      sources: { sysfsRoot: lab.sysfsRoot, procRoot: lab.procRoot },
      kernel: watchingWrites(lab.kernel.port, (op) => look(op)),
      journal: new Journal(lab.stateDir),
      guests: lab.guestSockets.map((g) => ({ name: g.name, endpoint: unixEndpoint(g.socket), source: 'test' })),
      clock: systemClock,
      hostPollMs: 100,
      guestPollMs: 100,
      beforeChange: () => recorder?.flush(),
    }));
    recorder = new Recorder({ path, clock: systemClock, header: { hotslotVersion: 'test', host: 'demo', user: 'u', startedAt: new Date().toISOString(), terminal: null } }).attach(
      merge(s.bus.events$, s.bus.notes$),
    );
    const web = lab.guests.find((g) => g.opts.name === 'web')!;
    let failAdd = false;
    for (const g of lab.guests) {
      g.setFaultHook((command) => {
        if (command === 'device_add' || command === 'device_del') look(`${command} in ${g.opts.name}`);
        return g === web && failAdd && command === 'device_add' ? 'error' : undefined;
      });
    }
    const outcomes = new ReplaySubject<string>();
    s.bus.events$.subscribe((e) => {
      if (e.type === 'op.finished') outcomes.next(e.outcome);
    });
    /** The outcome of the n-th operation, once it has one. */
    const finished = (n: number) => firstValueFrom(outcomes.pipe(skip(n - 1), timeout(30_000)));
    s.start();
    try {
      await firstValueFrom(s.bus.state$.pipe(filter((st) => Object.values(st.guests).filter((g) => g.connected).length === 3 && st.devices['0000:02:00.0'] !== undefined), timeout(30_000)));
      s.sendIntent({ kind: 'attach', bdf: '0000:02:00.0', guest: 'web' });
      expect(await finished(1)).toBe('done');
      s.sendIntent({ kind: 'move', bdf: '0000:02:00.0', guest: 'db' });
      expect(await finished(2)).toBe('done');
      // QEMU refuses the device_add: every step before it is undone, each undo a write of its own.
      failAdd = true;
      s.sendIntent({ kind: 'attach', bdf: '0000:03:00.0', guest: 'web' });
      expect(await finished(3)).toBe('failed');
      failAdd = false;
      s.sendIntent({ kind: 'detach', bdf: '0000:02:00.0' });
      expect(await finished(4)).toBe('done');
    } finally {
      recorder.close();
    }

    expect(seen.filter((x) => x.opLinesNotOnDisk > 0)).toEqual([]);
    const whats = new Set(seen.map((x) => x.what));
    for (const w of ['unbind', 'reset', 'setDriverOverride', 'driversProbe', 'clearDriverOverride', 'device_add in web', 'device_add in db', 'device_del in web', 'device_del in db']) {
      expect(whats, w).toContain(w);
    }
    // Each change finds its own step on disk: the step that makes it, or the failure whose undo it is.
    expect(seen.find((x) => x.what === 'unbind')?.lastOnDisk).toBe('op.step unbind running');
    expect(seen.find((x) => x.what === 'device_add in db')?.lastOnDisk).toBe('op.step device_add running');
    const refused = seen.map((x) => x.what).lastIndexOf('device_add in web');
    expect(seen.slice(refused + 1).some((x) => WRITES.has(x.what) && x.lastOnDisk === 'op.step device_add failed')).toBe(true);
  }, 60_000);
});
