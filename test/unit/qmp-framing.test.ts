import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFrameDecoder, type Frame } from '../../src/qmp/framing.js';

/** Feeds the chunks to a fresh decoder and returns every frame it produced. */
async function decode(chunks: Buffer[], maxLineLength = 1 << 20): Promise<Frame[]> {
  const frames: Frame[] = [];
  const decoder = createFrameDecoder(maxLineLength, (frame) => frames.push(frame));
  for (const chunk of chunks) decoder.write(chunk);
  // split2 reports an overflowing line as a stream error, which Node delivers on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  decoder.destroy();
  return frames;
}

function cutAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

const message = fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue(), { maxKeys: 6 });

describe('QMP framing', () => {
  it('yields the same messages however the byte stream is cut into chunks, even inside a UTF-8 character', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.boolean(),
        async (messages, cuts, crlf) => {
          const bytes = Buffer.from(messages.map((m) => JSON.stringify(m) + (crlf ? '\r\n' : '\n')).join(''), 'utf8');
          const frames = await decode(cutAt(bytes, cuts));
          expect(frames).toEqual(messages.map((m) => ({ ok: true, message: JSON.parse(JSON.stringify(m)) as unknown })));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('yields every message of a stream fed one byte at a time', async () => {
    const text = '{"return": {"status": "running", "name": "Grüße ✓ 🚀"}, "id": 1}\r\n{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n';
    const bytes = Buffer.from(text, 'utf8');
    const frames = await decode([...bytes].map((b) => Buffer.from([b])));
    expect(frames).toEqual(text.trim().split('\r\n').map((l) => ({ ok: true, message: JSON.parse(l) as unknown })));
  });

  it('skips blank lines', async () => {
    expect(await decode([Buffer.from('\r\n\n{"a":1}\r\n  \r\n')])).toEqual([{ ok: true, message: { a: 1 } }]);
  });

  it('reports a line that is not JSON, or not an object, without throwing', async () => {
    const frames = await decode([Buffer.from('{"return": {}, "id": 1}\r\nthis is not json\r\n[1,2]\r\n42\r\n')]);
    expect(frames[0]).toEqual({ ok: true, message: { return: {}, id: 1 } });
    expect(frames.slice(1)).toEqual([
      { ok: false, detail: 'not JSON: "this is not json"' },
      { ok: false, detail: 'not a JSON object: "[1,2]"' },
      { ok: false, detail: 'not a JSON object: "42"' },
    ]);
  });

  it('reports a complete line over the limit that arrives in one chunk', async () => {
    const long = JSON.stringify({ return: 'x'.repeat(500), id: 1 });
    const frames = await decode([Buffer.from(`{"a":1}\n${long}\n`)], 100);
    expect(frames).toEqual([{ ok: true, message: { a: 1 } }, { ok: false, detail: 'a line is longer than the limit of 100 characters' }]);
  });

  it('reports a line that grows over the limit across chunks, once, and keeps nothing more of it', async () => {
    const chunks = [Buffer.from('{"a":1}\n{"return": "'), ...Array.from({ length: 50 }, () => Buffer.from('y'.repeat(64)))];
    const frames = await decode(chunks, 1000);
    expect(frames).toEqual([{ ok: true, message: { a: 1 } }, { ok: false, detail: 'a line is longer than the limit of 1000 characters' }]);
  });
});
