/** Exit statuses, DESIGN.md section 4. Scripts rely on them. */
export const ExitCode = {
  ok: 0,
  /** The operation failed and the device was put back. */
  failed: 1,
  /** Bad usage or input; nothing changed. */
  usage: 2,
  /** Refused by a safety check; nothing changed. */
  refused: 3,
  /** The device is left stuck; the message says what to do. */
  stuck: 4,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: printed as one line (no stack trace) and turned into an exit status. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(message, ExitCode.usage);
export const failure = (message: string) => new CliError(message, ExitCode.failed);
