import { Observable } from 'rxjs';
import type { HotslotEvent } from '../core/events.js';
import type { RecordedEvent } from './format.js';

/**
 * A recording as an event stream, at its own pace divided by `speed` (Infinity: all at once),
 * starting at `fromMs`: events before it are delivered at once, so the state is right at the start.
 * Replay has no kernel port and no QMP sender: it can only show what happened.
 */
export function replayEvents(events: readonly RecordedEvent[], opts: { speed?: number; fromMs?: number } = {}): Observable<HotslotEvent> {
  const speed = opts.speed ?? 1;
  const from = opts.fromMs ?? 0;
  return new Observable<HotslotEvent>((subscriber) => {
    let i = 0;
    while (i < events.length && (events[i].t <= from || !Number.isFinite(speed))) subscriber.next(events[i++].event);
    if (i >= events.length) {
      subscriber.complete();
      return;
    }
    const start = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const next = () => {
      const elapsed = (performance.now() - start) * speed + from;
      while (i < events.length && events[i].t <= elapsed) subscriber.next(events[i++].event);
      if (i >= events.length) {
        subscriber.complete();
        return;
      }
      timer = setTimeout(next, Math.max(0, (events[i].t - elapsed) / speed));
    };
    next();
    return () => clearTimeout(timer);
  });
}
