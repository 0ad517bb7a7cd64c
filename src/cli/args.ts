import { BdfError, normalizeBdf } from '../pci/bdf.js';
import { usageError } from './exit-codes.js';

/** A BDF argument, normalised; anything else is bad usage before it can reach a path. */
export function bdfArg(text: string): string {
  try {
    return normalizeBdf(text);
  } catch (err) {
    if (err instanceof BdfError) throw usageError(err.message);
    throw err;
  }
}
