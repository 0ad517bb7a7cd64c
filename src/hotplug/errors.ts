/** Bad input: a device or guest that does not exist, a malformed address. Nothing was changed. */
export class HotplugInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HotplugInputError';
  }
}

/** A step failed; the steps already done were undone (see `undoFailures` for any that could not be). */
export class StepFailedError extends Error {
  constructor(
    readonly step: string,
    readonly bdf: string | undefined,
    override readonly cause: unknown,
    readonly undoFailures: string[] = [],
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`${step}${bdf ? ` of ${bdf}` : ''} failed: ${why}`);
    this.name = 'StepFailedError';
  }
}

/** A guest would not let go of a device, or an undo failed: the device is not where it should be. */
export class StuckError extends Error {
  constructor(
    readonly bdf: string,
    message: string,
  ) {
    super(message);
    this.name = 'StuckError';
  }
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
