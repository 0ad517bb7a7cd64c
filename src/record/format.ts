import { z } from 'zod';
import type { HotslotEvent } from '../core/events.js';

/** Session recordings: JSON Lines, a header line, then one line per event. */
export const SCHEMA_VERSION = 1;

export const headerSchema = z.object({
  kind: z.literal('hotslot-session'),
  schema: z.number().int().positive(),
  hotslotVersion: z.string(),
  host: z.string(),
  user: z.string(),
  startedAt: z.string(),
  terminal: z.object({ cols: z.number().int(), rows: z.number().int() }).nullable(),
});

export type RecordingHeader = z.infer<typeof headerSchema>;

export const lineSchema = z.object({
  seq: z.number().int().nonnegative(),
  /** Milliseconds since the session started, monotonic. */
  t: z.number().nonnegative(),
  /** Wall-clock time, ISO 8601. */
  wall: z.string(),
  event: z.looseObject({ type: z.string(), at: z.number() }),
});

export interface RecordedEvent {
  seq: number;
  t: number;
  wall: string;
  event: HotslotEvent;
}
