import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changesState } from '../../src/core/events.js';
import { readRecording } from '../../src/record/reader.js';
import { hotslot } from '../support/hotslot-cli.js';

const SAMPLE = resolve(import.meta.dirname, '../../recordings/move-between-guests.jsonl');

describe('export-cast', () => {
  it('writes an asciicast v2 file: a valid header, times that never go back, a marker per operation, and the final screen', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hotslot-cast-')), 'move.cast');
    const r = await hotslot(['export-cast', SAMPLE, '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const [headerLine, ...rest] = readFileSync(out, 'utf8').trimEnd().split('\n');
    const header = JSON.parse(headerLine) as { version: number; width: number; height: number };
    expect(header).toMatchObject({ version: 2, width: 120, height: 36 });
    const events = rest.map((l) => JSON.parse(l) as [number, string, string]);
    for (let i = 1; i < events.length; i++) expect(events[i][0]).toBeGreaterThanOrEqual(events[i - 1][0]);
    const markers = events.filter((e) => e[1] === 'm').map((e) => e[2]);
    const recorded = (await readRecording(SAMPLE)).events;
    const started = recorded.filter((e) => e.event.type === 'op.started');
    expect(markers).toHaveLength(started.length);
    expect(markers[0]).toMatch(/^attach 0000:03:00\.0 -> web$/);
    expect(markers[1]).toMatch(/^move 0000:03:00\.0 -> db$/);
    const output = events.filter((e) => e[1] === 'o').map((e) => e[2]).join('');
    expect(output).toContain('0000:03:00.0');
    // The cast lasts as long as the session did, to its last change on screen (QMP traffic draws nothing).
    expect(events.at(-1)![0]).toBeCloseTo(recorded.filter((e) => changesState(e.event)).at(-1)!.t / 1000, 1);

    // asciinema plays it (it wants a terminal: `script` gives it one).
    const play = spawnSync('script', ['-qec', `asciinema cat ${out}`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(play.status, play.stderr).toBe(0);
    expect(play.stdout).toContain('0000:03:00.0');
  });

  it('a bad recording is refused with its line, exit 2', async () => {
    const r = await hotslot(['export-cast', join(tmpdir(), 'no-such-recording.jsonl')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
