import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import split2 from 'split2';
import { checkLine, headerSchema, knownKinds, SCHEMA_VERSION, type RecordedEvent, type RecordingHeader } from './format.js';

export interface RecordingProblem {
  line: number;
  message: string;
}

/** What a pass over a recording found. */
export interface RecordingScan {
  header: RecordingHeader;
  /** Event lines handed on, in order. */
  events: number;
  /** Lines of kinds this hotslot does not know (a newer one wrote them): passed over. */
  skipped: number;
  /** Milliseconds from the session's start to its last event. */
  durationMs: number;
  /** The first problem found; the events before it are good and still replay. */
  problem: RecordingProblem | null;
}

export interface Recording extends Omit<RecordingScan, 'events'> {
  events: RecordedEvent[];
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

/** Longer lines are a problem rather than a reason to hold the whole file in memory. */
const MAX_LINE = 64 << 20;

function cannotRead(file: string, err: unknown): RecordingError {
  const code = (err as NodeJS.ErrnoException).code;
  return new RecordingError(file, 0, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read it (${code ?? String(err)})`);
}

/** Whether the file's last byte is a newline (a recorder killed mid-line leaves it without), read without reading the file. */
async function endsWithNewline(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw cannotRead(file, err);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new RecordingError(file, 0, 'is a directory');
    if (st.size === 0) throw new RecordingError(file, 1, 'empty: not a hotslot recording');
    const { buffer } = await handle.read(Buffer.alloc(1), 0, 1, st.size - 1);
    return buffer[0] === 0x0a;
  } finally {
    await handle.close();
  }
}

function readHeader(file: string, text: string): RecordingHeader {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RecordingError(file, 1, 'the header is not JSON: not a hotslot recording');
  }
  const h = headerSchema.safeParse(json);
  if (!h.success) throw new RecordingError(file, 1, `not a hotslot recording header (${h.error.issues[0].path.join('.') || 'header'}: ${h.error.issues[0].message})`);
  if (h.data.schema > SCHEMA_VERSION) {
    throw new RecordingError(file, 1, `recorded with schema ${h.data.schema}, newer than this hotslot reads (${SCHEMA_VERSION}): upgrade hotslot to replay it`);
  }
  return h.data as RecordingHeader;
}

/**
 * Reads a recording line by line from a stream, never the whole file at once, and hands each
 * event on as it comes. A bad header is an error (RecordingError); a bad, torn or out-of-order
 * event line ends the recording there, with a problem naming its line.
 */
export async function scanRecording(
  file: string,
  onEvent: (e: RecordedEvent, line: number) => void,
  onHeader?: (header: RecordingHeader) => void,
): Promise<RecordingScan> {
  const newlineAtEnd = await endsWithNewline(file);
  return new Promise<RecordingScan>((resolve, reject) => {
    const input = createReadStream(file, { highWaterMark: 64 << 10 });
    const lines = input.pipe(split2('\n', { maxLength: MAX_LINE }));
    let n = 0;
    let header: RecordingHeader | null = null;
    let known: (type: string) => boolean = () => false;
    let nextSeq = 0;
    let lastT = 0;
    let events = 0;
    let skipped = 0;
    let problem: RecordingProblem | null = null;
    /** A line that did not parse: the last one cut short, or a corrupt one if another follows. */
    let unparsed: number | null = null;
    let settled = false;

    const finish = (err?: RecordingError) => {
      if (settled) return;
      settled = true;
      input.destroy();
      lines.destroy();
      if (err) reject(err);
      else if (header === null) reject(new RecordingError(file, 1, 'empty: not a hotslot recording'));
      else resolve({ header, events, skipped, durationMs: lastT, problem });
    };
    const stop = (line: number, message: string) => {
      problem = { line, message };
      finish();
    };

    lines.on('data', (text: string) => {
      if (settled) return;
      n++;
      if (unparsed !== null) return stop(unparsed, 'not JSON');
      if (header === null) {
        try {
          header = readHeader(file, text);
        } catch (err) {
          return finish(err as RecordingError);
        }
        known = knownKinds(header.schema);
        nextSeq = header.continued?.seq ?? 0;
        onHeader?.(header);
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        unparsed = n;
        return;
      }
      const v = checkLine(json, known);
      if (v.ok === false) return stop(n, v.message);
      const { seq, t } = v.ok === true ? v.line : v;
      if (seq !== nextSeq) return stop(n, `sequence number ${seq} where ${nextSeq} was expected (lines missing or out of order)`);
      if (t < lastT) return stop(n, `time goes backwards (${t} ms after ${lastT} ms)`);
      nextSeq++;
      lastT = t;
      if (v.ok === true) {
        try {
          onEvent(v.line, n);
        } catch (err) {
          // A line that passes the checks and still cannot be replayed ends the recording here too.
          return stop(n, `cannot replay it: ${err instanceof Error ? err.message : String(err)}`);
        }
        events++;
      } else skipped++;
    });
    lines.on('end', () => {
      if (unparsed !== null) stop(unparsed, unparsed === n && !newlineAtEnd ? 'the last line is cut short (truncated recording)' : 'not JSON');
      else finish();
    });
    lines.on('error', (err: Error) => {
      if (header === null) finish(new RecordingError(file, 1, 'the header is not JSON: not a hotslot recording'));
      else stop(n + 1, err.message === 'maximum buffer reached' ? `a line longer than ${MAX_LINE >> 20} MiB` : err.message);
    });
    input.on('error', (err) => finish(cannotRead(file, err)));
  });
}

/**
 * A whole recording in memory, for the replay dashboard and the cast export (it must fit: a
 * recording rotates at a size limit); with `keep`, only the events it accepts.
 */
export async function readRecording(file: string, keep: (e: RecordedEvent) => boolean = () => true): Promise<Recording> {
  const events: RecordedEvent[] = [];
  const scan = await scanRecording(file, (e) => {
    if (keep(e)) events.push(e);
  });
  return { ...scan, events };
}
