import { Observable, Subject, scan, startWith, shareReplay } from 'rxjs';
import type { HotslotEvent } from './events.js';
import { reduce } from './reducer.js';
import { initialState, type HotslotState } from './state.js';

/** The event bus: one Subject of events, and state derived from it with the reducer. */
export interface Bus {
  events$: Observable<HotslotEvent>;
  state$: Observable<HotslotState>;
  emit(event: HotslotEvent): void;
  close(): void;
}

export function createBus(start: HotslotState = initialState): Bus {
  const subject = new Subject<HotslotEvent>();
  const state$ = subject.pipe(scan(reduce, start), startWith(start), shareReplay({ bufferSize: 1, refCount: false }));
  return {
    events$: subject.asObservable(),
    state$,
    emit: (e) => subject.next(e),
    close: () => subject.complete(),
  };
}
