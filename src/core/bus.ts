import { Observable, Subject, scan, startWith, shareReplay } from 'rxjs';
import type { HotslotEvent, SessionNote } from './events.js';
import { reduce } from './reducer.js';
import { initialState, type HotslotState } from './state.js';

/**
 * The event bus: one Subject of events, and state derived from it with the reducer; beside it,
 * the notes that change no state (QMP traffic, the operator's answers, resizes) for the recorder.
 */
export interface Bus {
  events$: Observable<HotslotEvent>;
  state$: Observable<HotslotState>;
  notes$: Observable<SessionNote>;
  emit(event: HotslotEvent): void;
  note(note: SessionNote): void;
  close(): void;
}

export function createBus(start: HotslotState = initialState): Bus {
  const subject = new Subject<HotslotEvent>();
  const notes = new Subject<SessionNote>();
  const state$ = subject.pipe(scan(reduce, start), startWith(start), shareReplay({ bufferSize: 1, refCount: false }));
  return {
    events$: subject.asObservable(),
    state$,
    notes$: notes.asObservable(),
    emit: (e) => subject.next(e),
    note: (n) => notes.next(n),
    close: () => {
      subject.complete();
      notes.complete();
    },
  };
}
