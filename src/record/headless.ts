import { changesState } from '../core/events.js';
import { reduce } from '../core/reducer.js';
import { initialState, type HotslotState } from '../core/state.js';
import { scanRecording, type RecordingScan } from './reader.js';

export interface HeadlessReplay extends RecordingScan {
  /** Where the session stood at the end (or where the recording stops being good). */
  state: HotslotState;
  operations: number;
  /** Lines that change no state: QMP traffic, the operator's intents and answers, resizes. */
  notes: number;
}

/**
 * A replay with no screen: the recording read as a stream, each event through the reducer, and
 * nothing kept but the state, so that memory does not grow with the file. An event the reducer
 * cannot take ends the recording there, with its line.
 */
export async function replayHeadless(file: string): Promise<HeadlessReplay> {
  let state: HotslotState = initialState;
  let operations = 0;
  let notes = 0;
  const scan = await scanRecording(
    file,
    (e) => {
      if (!changesState(e.event)) {
        notes++;
        return;
      }
      if (e.event.type === 'op.started') operations++;
      state = reduce(state, e.event);
    },
    // A file that a rotation started goes on from where the session stood.
    (header) => (state = header.continued?.state ?? initialState),
  );
  return { ...scan, state, operations, notes };
}
