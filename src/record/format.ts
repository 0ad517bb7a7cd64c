import { z } from 'zod';
import { changesState, type SessionRecord } from '../core/events.js';
import type { HotslotState } from '../core/state.js';

/**
 * Session recordings: JSON Lines, a header line, then one line per event, `{seq, t, wall, event}`.
 *
 * Schema 2 adds the notes that change no state (QMP traffic, the operator's intents and answers,
 * terminal resizes) and the header's `continued` after a rotation. A hotslot that reads only
 * schema 1 would hand the notes to its reducer, so it must refuse these files: hence the bump.
 * Schema 1 files read as before.
 */
export const SCHEMA_VERSION = 2;

export const headerSchema = z.object({
  kind: z.literal('hotslot-session'),
  schema: z.number().int().positive(),
  hotslotVersion: z.string(),
  host: z.string(),
  user: z.string(),
  startedAt: z.string(),
  terminal: z.object({ cols: z.number().int(), rows: z.number().int() }).nullable(),
  /** A file that a rotation started: the session's state and next sequence number at that point. */
  continued: z
    .object({
      seq: z.number().int().nonnegative(),
      state: z.looseObject({ devices: z.record(z.string(), z.unknown()), guests: z.record(z.string(), z.unknown()), operations: z.record(z.string(), z.unknown()) }),
    })
    .optional(),
});

export type RecordingHeader = Omit<z.infer<typeof headerSchema>, 'continued'> & { continued?: { seq: number; state: HotslotState } };

export interface RecordedEvent {
  seq: number;
  /** Milliseconds since the session started, monotonic. */
  t: number;
  /** Wall-clock time, ISO 8601. */
  wall: string;
  event: SessionRecord;
}

type FieldKind = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'device' | 'devices';

/**
 * The fields of each kind that the reducer and the views rely on. Checked on every line by hand:
 * a schema library per line costs more than the rest of a replay together (bench/replay.mjs).
 */
const FIELDS: Readonly<Record<SessionRecord['type'], Readonly<Record<string, FieldKind>>>> = {
  'host.scanned': { iommu: 'boolean', devices: 'devices' },
  'host.device.added': { device: 'device' },
  'host.device.removed': { bdf: 'string' },
  'host.device.changed': { device: 'device', fields: 'array' },
  'host.interrupts': { counts: 'object' },
  'guest.connected': { guest: 'string' },
  'guest.disconnected': { guest: 'string', reason: 'string' },
  'guest.status': { guest: 'string', runState: 'string' },
  'guest.devices': { guest: 'string', devices: 'array', freeSlots: 'array' },
  'qmp.event': { guest: 'string', event: 'string' },
  'op.started': { opId: 'string', op: 'string', bdfs: 'array' },
  'op.step': { opId: 'string', step: 'string', status: 'string' },
  'op.finished': { opId: 'string', outcome: 'string', message: 'string' },
  'qmp.sent': { guest: 'string', message: 'object' },
  'qmp.received': { guest: 'string', message: 'object' },
  'operator.intent': { intent: 'object' },
  'operator.answer': { question: 'string', about: 'string', answer: 'string' },
  'terminal.resized': { cols: 'number', rows: 'number' },
};

/** The same, as lists: read once per line. */
const FIELD_LISTS = new Map(Object.entries(FIELDS).map(([type, fields]) => [type, Object.entries(fields)]));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDevice = (v: unknown): boolean => isObject(v) && typeof v.bdf === 'string' && isObject(v.owner);

function fits(v: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'device':
      return isDevice(v);
    case 'devices':
      return Array.isArray(v) && v.every(isDevice);
    default:
      return typeof v === kind;
  }
}

const WANT: Record<FieldKind, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  device: 'a device (bdf, owner)',
  devices: 'a list of devices (bdf, owner)',
};

/** What a parsed line is: an event this hotslot knows, one of a kind it does not (skipped), or what is wrong with it. */
export type LineVerdict = { ok: true; line: RecordedEvent } | { ok: 'unknown'; seq: number; t: number } | { ok: false; message: string };

/** Checks one parsed event line; `known` says which kinds the file's schema may hold. */
export function checkLine(json: unknown, known: (type: string) => boolean): LineVerdict {
  if (!isObject(json)) return { ok: false, message: 'not an event line (not an object)' };
  const { seq, t, wall, event } = json;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) return { ok: false, message: 'not an event line (seq: expected a whole number)' };
  if (typeof t !== 'number' || !(t >= 0)) return { ok: false, message: 'not an event line (t: expected milliseconds since the start)' };
  if (typeof wall !== 'string') return { ok: false, message: 'not an event line (wall: expected a time)' };
  if (!isObject(event) || typeof event.type !== 'string' || typeof event.at !== 'number') {
    return { ok: false, message: 'not an event line (event: expected an object with a type and a time, at)' };
  }
  if (!known(event.type)) return { ok: 'unknown', seq, t };
  for (const [name, kind] of FIELD_LISTS.get(event.type)!) {
    if (!fits(event[name], kind)) return { ok: false, message: `a ${event.type} event whose ${name} is not ${WANT[kind]}` };
  }
  return { ok: true, line: json as unknown as RecordedEvent };
}

/** The kinds a file of schema `schema` may hold: schema 1 had only the events that change state. */
export function knownKinds(schema: number): (type: string) => boolean {
  return schema >= 2 ? (type) => Object.hasOwn(FIELDS, type) : (type) => changesState({ type });
}
