export type QmpLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where the client reports what it drops or survives; silent unless the caller passes one. */
export interface QmpLogger {
  log(level: QmpLogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export const silentLogger: QmpLogger = { log: () => undefined };
