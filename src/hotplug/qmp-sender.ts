import type { EventPredicate, QmpEvent, WaitForEventOptions } from '../qmp/index.js';

/** The part of a QMP client the hotplug layer uses; a dry run records instead of sending. */
export interface QmpSender {
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options?: { timeoutMs?: number }): Promise<T>;
  waitForEvent(predicate: EventPredicate, options: WaitForEventOptions): Promise<QmpEvent>;
}

/** Commands that only read a guest; every other one may change it. */
export const isReadingCommand = (command: string): boolean => command.startsWith('query-') || command === 'qom-get';

/** The same sender, with `before` called ahead of each command that may change the guest (device_add, device_del). */
export function withChangeBarrier(sender: QmpSender, before: () => void): QmpSender {
  return {
    execute<T = unknown>(command: string, args?: Record<string, unknown>, options?: { timeoutMs?: number }): Promise<T> {
      if (!isReadingCommand(command)) before();
      return sender.execute<T>(command, args, options);
    },
    waitForEvent: (predicate, options) => sender.waitForEvent(predicate, options),
  };
}

export interface RecordedQmp {
  guest: string;
  execute: string;
  arguments?: Record<string, unknown>;
  /** How many sysfs writes came before it, so a dry run prints both in their true order. */
  afterWrite?: number;
}

/**
 * Records the commands that change a guest and answers them with an empty return; reading
 * commands (`query-*`, `qom-get`) go to the real guest so that a dry run plans from the truth.
 */
export class RecordingQmp implements QmpSender {
  constructor(
    readonly guest: string,
    private readonly real: QmpSender | null,
    private readonly log: (entry: RecordedQmp) => void,
  ) {}

  async execute<T = unknown>(command: string, args?: Record<string, unknown>, options?: { timeoutMs?: number }): Promise<T> {
    if (isReadingCommand(command) && this.real) return this.real.execute<T>(command, args, options);
    this.log({ guest: this.guest, execute: command, ...(args ? { arguments: args } : {}) });
    return Promise.resolve({} as T);
  }

  waitForEvent(_predicate: EventPredicate, _options: WaitForEventOptions): Promise<QmpEvent> {
    return Promise.resolve({ event: 'DRY_RUN', data: {}, timestamp: { seconds: -1, microseconds: -1 } });
  }
}
