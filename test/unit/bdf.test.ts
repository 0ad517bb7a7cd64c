import { describe, expect, it } from 'vitest';
import { BdfError, normalizeBdf, parseBdf, formatBdf } from '../../src/pci/bdf.js';

describe('BDF parsing', () => {
  it('accepts a full address and prints it back the same', () => {
    expect(formatBdf(parseBdf('0000:03:00.0'))).toBe('0000:03:00.0');
    expect(parseBdf('0001:ff:1f.7')).toEqual({ domain: 1, bus: 255, device: 31, fn: 7 });
  });

  it('accepts upper case and a short form only where asked, and normalizes it', () => {
    expect(normalizeBdf('03:00.0')).toBe('0000:03:00.0');
    expect(normalizeBdf('0000:0A:1F.3')).toBe('0000:0a:1f.3');
    expect(() => parseBdf('03:00.0')).toThrow(BdfError);
  });

  it.each(['', '0000:03:00', '0000:03:20.0', '0000:03:00.8', '../../block', '0000:03:00.0/../x', '3:0.0', '0000:03:00.0\n', ' 0000:003:00.0'])(
    'rejects %j before it can reach a path',
    (input) => {
      expect(() => parseBdf(input)).toThrow(/not a PCI address/);
    },
  );
});
