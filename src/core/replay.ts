import type { HotslotEvent } from './events.js';
import type { HotslotState } from './state.js';

/** Where a replay stands, as the dashboard shows it. */
export interface ReplayPosition {
  /** Milliseconds into the recording. */
  t: number;
  /** Milliseconds from the recording's start to its last event. */
  durationMs: number;
  /** Events shown so far, of `total`. */
  index: number;
  total: number;
  /** 2: twice as fast as it was recorded. */
  speed: number;
  paused: boolean;
  /** Every event is shown: nothing more comes until the replay is moved back. */
  ended: boolean;
}

/** What the replay keys ask for; the dashboard sends these as it sends intents, and a replay carries them out. */
export type ReplayCommand =
  | { kind: 'toggle-pause' }
  /** Forward (positive) or back, in milliseconds of the recording. */
  | { kind: 'seek'; byMs: number }
  | { kind: 'seek-to'; to: 'start' | 'end' }
  /** To just after the next (or the previous) operation's start or end, and pause there. */
  | { kind: 'next-operation' }
  | { kind: 'previous-operation' }
  | { kind: 'speed'; factor: number };

/** One move of a replay: the state where it now stands, and the events that led there. */
export interface ReplayFrame {
  state: HotslotState;
  /** The events since the last frame; after a move back, every event from the start. */
  events: readonly HotslotEvent[];
  /** The replay went back: what was shown before this frame no longer holds. */
  rewound: boolean;
  position: ReplayPosition;
}
