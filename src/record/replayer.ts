import { Subject, type Observable } from 'rxjs';
import { systemClock, type Clock } from '../core/clock.js';
import { changesState, type HotslotEvent } from '../core/events.js';
import { reduce } from '../core/reducer.js';
import type { ReplayCommand, ReplayFrame, ReplayPosition } from '../core/replay.js';
import { initialState, type HotslotState } from '../core/state.js';
import type { RecordedEvent } from './format.js';

/** How the replay waits; tests pass their own to move time by hand. */
export interface ReplayTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: ReplayTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ReplayerOptions {
  /** Notes and kinds that change no state are left out. */
  events: readonly RecordedEvent[];
  /** Where the recording begins: the header's state for a file that a rotation started. */
  initial?: HotslotState;
  speed?: number;
  /** Start this many milliseconds into the recording. */
  fromMs?: number;
  clock?: Clock;
  timers?: ReplayTimers;
}

/** While playing, a frame at least this often (of real time), so that the position on screen moves between events. */
const POSITION_EVERY_MS = 250;
const MIN_SPEED = 1 / 16;
const MAX_SPEED = 64;

const isBoundary = (e: HotslotEvent) => e.type === 'op.started' || e.type === 'op.finished';

/**
 * A recording played back as the dashboard's state: at its own pace times `speed`, paused,
 * moved forward or back, stepped from operation to operation. The state is always the reducer
 * run over the events up to the position; going back runs it again from the start. A replay has
 * no kernel port and no QMP client: it can only show what happened.
 */
export class Replayer {
  readonly frames$: Observable<ReplayFrame>;
  private readonly frames = new Subject<ReplayFrame>();
  private readonly events: readonly { t: number; event: HotslotEvent }[];
  private readonly initial: HotslotState;
  private readonly clock: Clock;
  private readonly timers: ReplayTimers;
  private readonly startT: number;
  private readonly endT: number;
  private state: HotslotState;
  /** Events applied: every event with t <= this.t, and no other. */
  private index = 0;
  private t: number;
  private speed: number;
  private paused = false;
  /** Where playing started from, in real and recording time. */
  private anchor = { real: 0, t: 0 };
  private timer: unknown = null;
  /** A timer is running: the position moves with the clock. */
  private playing = false;
  private stopped = false;

  constructor(opts: ReplayerOptions) {
    this.events = opts.events.flatMap((e) => (changesState(e.event) ? [{ t: e.t, event: e.event }] : []));
    this.initial = opts.initial ?? initialState;
    this.state = this.initial;
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? realTimers;
    this.speed = clampSpeed(opts.speed ?? 1);
    // The start is the first event, not an empty screen before it.
    this.startT = this.events[0]?.t ?? 0;
    this.endT = this.events.at(-1)?.t ?? 0;
    this.t = Math.max(this.startT, Math.min(opts.fromMs ?? 0, this.endT));
    this.frames$ = this.frames.asObservable();
  }

  /** Shows the starting position and plays from there (subscribe to `frames$` first). */
  start(): void {
    this.moveTo(this.t);
    this.play();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer();
    this.frames.complete();
  }

  get position(): ReplayPosition {
    return {
      t: this.currentT(),
      durationMs: this.endT,
      index: this.index,
      total: this.events.length,
      speed: this.speed,
      paused: this.paused,
      ended: this.ended(),
    };
  }

  /** The session's clock at the replay's position, for the time a running operation has taken. */
  now(): number {
    const last = this.events[this.index - 1];
    return last ? last.event.at + (this.currentT() - last.t) : this.state.now;
  }

  control(command: ReplayCommand): void {
    if (this.stopped) return;
    switch (command.kind) {
      case 'toggle-pause':
        if (this.ended()) {
          // Play at the end plays it again, as a video player does.
          this.paused = false;
          this.moveTo(this.startT);
        } else if (this.paused) {
          this.paused = false;
          this.emit([], false);
        } else {
          const at = this.currentT();
          this.paused = true;
          this.moveTo(at);
        }
        break;
      case 'seek':
        this.moveTo(this.currentT() + command.byMs);
        break;
      case 'seek-to':
        this.moveTo(command.to === 'start' ? this.startT : this.endT);
        break;
      case 'next-operation': {
        const at = this.currentT();
        let j = this.index;
        while (j < this.events.length && !isBoundary(this.events[j].event)) j++;
        this.paused = true;
        this.moveTo(j < this.events.length ? this.events[j].t : at);
        break;
      }
      case 'previous-operation': {
        const at = this.currentT();
        let k = Math.min(this.index, this.events.length) - 1;
        while (k >= 0 && !(this.events[k].t < at && isBoundary(this.events[k].event))) k--;
        this.paused = true;
        this.moveTo(k >= 0 ? this.events[k].t : this.startT);
        break;
      }
      case 'speed': {
        const at = this.currentT();
        this.speed = clampSpeed(this.speed * command.factor);
        this.moveTo(at);
        break;
      }
    }
    this.play();
  }

  private ended(): boolean {
    return this.index >= this.events.length && this.t >= this.endT;
  }

  private currentT(): number {
    if (!this.playing) return this.t;
    return Math.min(this.endT, this.anchor.t + (this.clock.now() - this.anchor.real) * this.speed);
  }

  /** Puts the replay at `target` (clamped to the recording) and shows it. */
  private moveTo(target: number): void {
    const to = Math.max(this.startT, Math.min(target, this.endT));
    this.cancelTimer();
    const rewound = this.index > 0 && this.events[this.index - 1].t > to;
    if (rewound) {
      // Back: state is only ever derived from the events, so derive it again from the start.
      this.state = this.initial;
      this.index = 0;
    }
    this.t = to;
    this.emit(this.applyUpTo(to), rewound);
  }

  /** Runs every event up to time `to` through the reducer; the events it ran. */
  private applyUpTo(to: number): HotslotEvent[] {
    const start = this.index;
    while (this.index < this.events.length && this.events[this.index].t <= to) this.state = reduce(this.state, this.events[this.index++].event);
    return this.events.slice(start, this.index).map((e) => e.event);
  }

  private emit(events: HotslotEvent[], rewound: boolean): void {
    this.frames.next({ state: this.state, events, rewound, position: this.position });
  }

  /** Keeps playing from the current position unless paused or at the end. */
  private play(): void {
    this.cancelTimer();
    if (this.paused || this.stopped || this.ended()) return;
    this.anchor = { real: this.clock.now(), t: this.t };
    this.playing = true;
    this.schedule();
  }

  /** The next tick: the next event's time, or the next step of the position on screen, whichever comes first. */
  private schedule(): void {
    const next = this.events[this.index];
    const untilNext = next ? (next.t - this.currentT()) / this.speed : Infinity;
    const untilStep = POSITION_EVERY_MS - ((this.clock.now() - this.anchor.real) % POSITION_EVERY_MS);
    this.timer = this.timers.set(() => this.tick(), Math.max(0, Math.min(untilNext, untilStep)));
  }

  private tick(): void {
    if (this.stopped || !this.playing) return;
    const to = this.currentT();
    const events = this.applyUpTo(to);
    this.t = to;
    if (this.ended()) {
      this.timer = null;
      this.playing = false;
    }
    this.emit(events, false);
    if (this.playing) this.schedule();
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    this.playing = false;
  }
}

function clampSpeed(s: number): number {
  return Math.max(MIN_SPEED, Math.min(MAX_SPEED, s));
}
