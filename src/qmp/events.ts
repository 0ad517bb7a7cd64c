import type { Observable, Subscription } from 'rxjs';
import { QmpError, QmpTimeoutError } from './errors.js';

/** QEMU's time of an event: seconds and microseconds since the epoch, both -1 if QEMU had no clock. */
export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

/** An asynchronous event (qmp-spec, "Asynchronous events"). */
export interface QmpEvent {
  event: string;
  /** Event-specific data; `{}` when the event has none. */
  data: Record<string, unknown>;
  timestamp: QmpTimestamp;
}

export type EventPredicate = (event: QmpEvent) => boolean;

/** Reads an event message; QEMU always sends a timestamp, a peer that does not gets -1/-1. */
export function toEvent(message: Record<string, unknown>): QmpEvent {
  const data = message.data;
  const ts = message.timestamp as Partial<QmpTimestamp> | undefined;
  const timestamp =
    ts && typeof ts === 'object' && typeof ts.seconds === 'number' && typeof ts.microseconds === 'number'
      ? { seconds: ts.seconds, microseconds: ts.microseconds }
      : { seconds: -1, microseconds: -1 };
  return {
    event: message.event as string,
    data: data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {},
    timestamp,
  };
}

/** QEMU's timestamp in milliseconds since the epoch, or null when QEMU could not read its clock. */
export function eventTimeMs(event: QmpEvent): number | null {
  const { seconds, microseconds } = event.timestamp;
  if (seconds < 0) return null;
  return seconds * 1000 + microseconds / 1000;
}

/** Matches an event by name and, optionally, by some top-level data members (`{ device: 'nic1' }`). */
export function eventMatching(name: string, data: Readonly<Record<string, unknown>> = {}): EventPredicate {
  const wanted = Object.entries(data);
  return (event) => event.event === name && wanted.every(([key, value]) => event.data[key] === value);
}

export interface WaitForEventOptions {
  timeoutMs: number;
  /** Names the awaited event in the timeout error, e.g. `DEVICE_DELETED for hostdev0`. */
  description?: string;
  /** Stops waiting; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** An error that stops a wait early: the connection closed. */
export type Interruptions = Observable<QmpError>;

/**
 * The first event matching `predicate` within the timeout. It subscribes before returning, so a
 * caller can start waiting, then send the command that causes the event, and miss nothing.
 * The returned promise already has a rejection handler, so creating it before a command that
 * then fails never produces an unhandled rejection; the caller still sees the rejection when it
 * awaits the promise.
 */
export function firstMatchingEvent(
  events$: Observable<QmpEvent>,
  interruptions$: Interruptions,
  endpoint: string,
  predicate: EventPredicate,
  options: WaitForEventOptions,
): Promise<QmpEvent> {
  const promise = new Promise<QmpEvent>((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) return reject(abortReason(signal));
    const subscriptions: Subscription[] = [];
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      for (const s of subscriptions) s.unsubscribe();
      settle();
    };
    const onAbort = () => finish(() => reject(abortReason(signal!)));
    const timer = setTimeout(
      () => finish(() => reject(new QmpTimeoutError(endpoint, `waiting for ${options.description ?? 'a matching event'}`, options.timeoutMs))),
      options.timeoutMs,
    );
    signal?.addEventListener('abort', onAbort);
    const watch = (subscribe: () => Subscription) => {
      const subscription = subscribe();
      if (settled) subscription.unsubscribe();
      else subscriptions.push(subscription);
    };
    watch(() => interruptions$.subscribe((error) => finish(() => reject(error))));
    watch(() =>
      events$.subscribe((event) => {
        let matched: boolean;
        try {
          matched = predicate(event);
        } catch (error) {
          return finish(() => reject(error instanceof Error ? error : new Error(String(error))));
        }
        if (matched) finish(() => resolve(event));
      }),
    );
  });
  promise.catch(() => undefined);
  return promise;
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(`stopped waiting: ${String(reason)}`);
}
