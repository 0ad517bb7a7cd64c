/** The host watcher on a timer, as an Observable for the live session. */
import { Observable, timer, type SchedulerLike } from 'rxjs';
import type { Clock } from '../core/clock.js';
import type { HostSources } from './inventory.js';
import { HostWatcher, type HostEvent, type WatcherTuning } from './watcher.js';

export interface WatchOptions extends WatcherTuning {
  /** Milliseconds between cycles. */
  intervalMs?: number;
  /** Time source for the cycles (tests pass a virtual-time scheduler). */
  scheduler?: SchedulerLike;
  clock?: Clock;
}

/**
 * `host.scanned` at once, then the changes of each cycle. Reading is synchronous and short, so a
 * cycle never overlaps the next.
 */
export function watchHost(src: HostSources, opts: WatchOptions = {}): Observable<HostEvent> {
  return new Observable<HostEvent>((subscriber) => {
    const watcher = new HostWatcher(src, opts.clock, opts);
    const sub = timer(0, opts.intervalMs ?? 2000, opts.scheduler).subscribe((tick) => {
      try {
        if (tick === 0) subscriber.next(watcher.scan());
        else for (const e of watcher.poll()) subscriber.next(e);
      } catch (err) {
        subscriber.error(err);
      }
    });
    return () => sub.unsubscribe();
  });
}
