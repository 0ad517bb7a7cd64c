import split from 'split2';
import type { Transform } from 'node:stream';

/** A decoded line: a JSON object, or why the line is not QMP. */
export type Frame = { ok: true; message: Record<string, unknown> } | { ok: false; detail: string };

/** Longest line accepted (in UTF-16 units); QEMU's largest replies (query-qmp-schema) are far below. */
export const DEFAULT_MAX_LINE_LENGTH = 4 * 1024 * 1024;

export interface FrameDecoder {
  /** Feeds bytes as they arrive; frames come out through `onFrame`, in order. */
  write(chunk: Buffer): void;
  destroy(): void;
}

/**
 * Splits the byte stream into lines (QEMU ends each with CRLF) with split2 and parses each as
 * JSON. The mapper never throws (a throw would destroy the stream): a bad line becomes a frame
 * with `ok: false`. split2 checks `maxLength` only on the unfinished tail of the buffer, so the
 * mapper checks complete lines too; an overflowing tail makes split2 fail, reported the same way.
 * Either way memory stays bounded by the limit plus one read.
 */
export function createFrameDecoder(maxLineLength: number, onFrame: (frame: Frame) => void): FrameDecoder {
  const overLimit = (): Frame => ({ ok: false, detail: `a line is longer than the limit of ${maxLineLength} characters` });
  const stream: Transform = split('\n', (line: string) => toFrame(line, maxLineLength, overLimit), { maxLength: maxLineLength });
  let failed = false;
  stream.on('data', (frame: Frame) => {
    if (!failed) onFrame(frame);
  });
  stream.on('error', () => {
    // The only error split2 raises when the mapper cannot throw is its line-length overflow.
    if (failed) return;
    failed = true;
    onFrame(overLimit());
  });
  return {
    write(chunk) {
      if (!failed && !stream.destroyed) stream.write(chunk);
    },
    destroy() {
      failed = true;
      stream.destroy();
    },
  };
}

function toFrame(line: string, maxLineLength: number, overLimit: () => Frame): Frame | undefined {
  if (line.length > maxLineLength) return overLimit();
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    if (line.trim() === '') return undefined;
    return { ok: false, detail: `not JSON: ${preview(line)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, detail: `not a JSON object: ${preview(line)}` };
  }
  return { ok: true, message: value as Record<string, unknown> };
}

function preview(line: string): string {
  const text = line.trim();
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}
