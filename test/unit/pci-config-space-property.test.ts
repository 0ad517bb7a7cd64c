import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeConfigSpace } from '../../src/pci/config-space.js';
import type { ConfigSpace } from '../../src/pci/config-space-types.js';
import { readLspciDump } from '../../src/pci/lspci-dump.js';

const CORPUS = join(import.meta.dirname, '..', '..', '..', 'shared', 'corpus', 'pciutils-dumps');
const REAL_SPACES: Uint8Array[] = readdirSync(CORPUS)
  .filter((f) => f !== 'README.md')
  .flatMap((f) => readLspciDump(readFileSync(join(CORPUS, f), 'utf8')).map((fn) => fn.bytes));

/** What must hold for any input: chains are finite, in range, loop-free and aligned. */
function assertSane(bytes: Uint8Array, cs: ConfigSpace): void {
  expect(cs.length).toBe(bytes.length);
  const standard = cs.capabilities.filter((c) => !c.extended);
  const extended = cs.capabilities.filter((c) => c.extended);
  for (const c of standard) {
    expect(c.offset).toBeGreaterThanOrEqual(0x40);
    expect(c.offset).toBeLessThanOrEqual(0xfc);
    expect(c.offset + 4).toBeLessThanOrEqual(bytes.length);
    expect(c.offset % 4).toBe(0);
  }
  for (const c of extended) {
    expect(c.offset).toBeGreaterThanOrEqual(0x100);
    expect(c.offset + 4).toBeLessThanOrEqual(bytes.length);
    expect(c.offset % 4).toBe(0);
  }
  expect(new Set(standard.map((c) => c.offset)).size).toBe(standard.length);
  expect(new Set(extended.map((c) => c.offset)).size).toBe(extended.length);
  if (bytes.length <= 256) expect(extended).toEqual([]);
  for (const c of cs.capabilities) expect(c.name.length).toBeGreaterThan(0);
  if (cs.msi) expect(cs.msi.vectorsCapable).toBeGreaterThanOrEqual(1);
  if (cs.msix) expect(cs.msix.tableSize).toBeGreaterThanOrEqual(1);
}

/** Random bytes of any length up to past 4096, the lengths that matter (64, 256, 4096 and their neighbours) often. */
const anyLengthBytes = fc
  .oneof(fc.constantFrom(0, 1, 2, 63, 64, 65, 255, 256, 257, 4095, 4096, 4100), fc.integer({ min: 0, max: 4200 }))
  .chain((length) => fc.uint8Array({ minLength: length, maxLength: length, size: 'max' }));

/** Random bytes shaped so that chains exist: a header with a capability list and a PCIe capability. */
const shapedSpace = fc
  .record({
    bytes: anyLengthBytes,
    headerType: fc.constantFrom(0, 1, 2, 0x80, 0x7f),
    first: fc.integer({ min: 0, max: 255 }),
    pcieAt: fc.integer({ min: 0x10, max: 0x3f }).map((n) => n * 4),
    firstExtNext: fc.integer({ min: 0, max: 0xfff }),
    startAtPcie: fc.boolean(),
  })
  .map(({ bytes, headerType, first, pcieAt, firstExtNext, startAtPcie }) => {
    const b = bytes.slice();
    const set = (at: number, v: number) => {
      if (at < b.length) b[at] = v;
    };
    set(0x06, b[0x06] | 0x10);
    set(0x0e, headerType);
    set(0x34, startAtPcie ? pcieAt : first);
    set(0x14, startAtPcie ? pcieAt : first);
    set(pcieAt, 0x10);
    set(0x100, 0x01);
    set(0x102, (firstExtNext << 4) & 0xff);
    set(0x103, firstExtNext >> 4);
    return b;
  });

describe('decodeConfigSpace on hostile input', () => {
  it('never throws on random bytes of any length, and its chains stay in range', () => {
    fc.assert(
      fc.property(anyLengthBytes, (bytes) => {
        assertSane(bytes, decodeConfigSpace(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on random bytes shaped to have capability chains, loops and wild pointers', () => {
    let withChains = 0;
    let withExtended = 0;
    fc.assert(
      fc.property(shapedSpace, (bytes) => {
        const cs = decodeConfigSpace(bytes);
        assertSane(bytes, cs);
        if (cs.capabilities.length > 0) withChains++;
        if (cs.capabilities.filter((c) => c.extended).length > 1) withExtended++;
      }),
      { numRuns: 600 },
    );
    // The shaping must actually reach the chain walkers, or this test proves little.
    expect(withChains).toBeGreaterThan(100);
    expect(withExtended).toBeGreaterThan(20);
  });

  it('never throws on real dumps with bytes overwritten and truncated at random', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: REAL_SPACES.length - 1 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 255 })), { maxLength: 40 }),
        fc.option(fc.integer({ min: 0, max: 4096 }), { nil: undefined }),
        (which, writes, cut) => {
          const b = REAL_SPACES[which].slice(0, cut);
          for (const [at, v] of writes) if (at < b.length) b[at] = v;
          assertSane(b, decodeConfigSpace(b));
        },
      ),
      { numRuns: 800 },
    );
  });

  it('gives every real corpus function sane chains', () => {
    expect(REAL_SPACES.length).toBe(172);
    for (const b of REAL_SPACES) assertSane(b, decodeConfigSpace(b));
  });
});
