import { readFileSync } from 'node:fs';
import type { HotslotEvent } from '../core/events.js';
import { headerSchema, lineSchema, SCHEMA_VERSION, type RecordedEvent, type RecordingHeader } from './format.js';

export interface RecordingProblem {
  line: number;
  message: string;
}

export interface Recording {
  header: RecordingHeader;
  events: RecordedEvent[];
  /** The first problem found; the events before it are good and still replay. */
  problem: RecordingProblem | null;
}

export class RecordingError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'RecordingError';
  }
}

/** Reads a recording; a bad header is an error, a bad or torn event line ends it with a problem. */
export function readRecording(file: string): Recording {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RecordingError(file, 0, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read it (${code ?? String(err)})`);
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new RecordingError(file, 1, 'empty: not a hotslot recording');
  let headerJson: unknown;
  try {
    headerJson = JSON.parse(lines[0]);
  } catch {
    throw new RecordingError(file, 1, 'the header is not JSON: not a hotslot recording');
  }
  const h = headerSchema.safeParse(headerJson);
  if (!h.success) throw new RecordingError(file, 1, `not a hotslot recording header (${h.error.issues[0].path.join('.') || 'header'}: ${h.error.issues[0].message})`);
  if (h.data.schema > SCHEMA_VERSION) {
    throw new RecordingError(file, 1, `recorded with schema ${h.data.schema}, newer than this hotslot reads (${SCHEMA_VERSION}): upgrade hotslot to replay it`);
  }
  const events: RecordedEvent[] = [];
  let problem: RecordingProblem | null = null;
  let lastT = 0;
  for (let i = 1; i < lines.length; i++) {
    const n = i + 1;
    let json: unknown;
    try {
      json = JSON.parse(lines[i]);
    } catch {
      problem = { line: n, message: i === lines.length - 1 && !text.endsWith('\n') ? 'the last line is cut short (truncated recording)' : 'not JSON' };
      break;
    }
    const l = lineSchema.safeParse(json);
    if (!l.success) {
      problem = { line: n, message: `not an event line (${l.error.issues[0].path.join('.')}: ${l.error.issues[0].message})` };
      break;
    }
    if (l.data.seq !== events.length) {
      problem = { line: n, message: `sequence number ${l.data.seq} where ${events.length} was expected (lines missing or out of order)` };
      break;
    }
    if (l.data.t < lastT) {
      problem = { line: n, message: `time goes backwards (${l.data.t} ms after ${lastT} ms)` };
      break;
    }
    lastT = l.data.t;
    events.push({ ...l.data, event: l.data.event as unknown as HotslotEvent });
  }
  return { header: h.data, events, problem };
}
