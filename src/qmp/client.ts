import { BehaviorSubject, Observable, Subject, filter, map } from 'rxjs';
import { describeEndpoint, type QmpEndpoint } from './endpoint.js';
import {
  ConnectionClosedError,
  ExecuteError,
  GreetingError,
  NegotiationError,
  ProtocolError,
  QmpError,
  QmpTimeoutError,
} from './errors.js';
import { firstMatchingEvent, toEvent, type EventPredicate, type QmpEvent, type WaitForEventOptions } from './events.js';
import { DEFAULT_MAX_LINE_LENGTH } from './framing.js';
import { parseGreeting, type QmpGreeting } from './greeting.js';
import { silentLogger, type QmpLogger } from './logger.js';
import { describeSocketError, openTransport, type Transport, type TransportClose } from './transport.js';

export interface ReconnectOptions {
  /** Wait before the first attempt; doubled (by `factor`) after each failure. Default 200 ms. */
  initialDelayMs?: number;
  /** Longest wait between attempts. Default 10 s. */
  maxDelayMs?: number;
  factor?: number;
  /** Attempts after a loss before giving up for good. Default: no limit. */
  maxAttempts?: number;
  /**
   * Keep trying after a failed first connection too (a QEMU that is not up yet); `connect()`
   * still rejects with that first failure. Default false.
   */
  retryFirst?: boolean;
}

export interface QmpClientOptions {
  /** Socket connect, greeting and capabilities negotiation together. Default 5 s. */
  connectTimeoutMs?: number;
  /** Per-command limit unless `execute` is given one; 0 means none. Default 30 s. */
  commandTimeoutMs?: number;
  /** A longer line from the server is a protocol error that closes the connection. */
  maxLineLength?: number;
  /** Where dropped replies and other oddities are reported; silent by default. */
  logger?: QmpLogger;
  /** Reconnect after a ready connection is lost; off by default. */
  reconnect?: boolean | ReconnectOptions;
}

export type ConnectionState =
  | { status: 'idle' }
  | { status: 'connecting'; attempt: number }
  | { status: 'ready'; greeting: QmpGreeting }
  | { status: 'closed'; reason: string; error: QmpError | null; willReconnect: boolean };

/** One message on the wire, for a session recording: what was sent, or what came back (greeting, replies, events). */
export interface QmpTraffic {
  direction: 'sent' | 'received';
  message: Record<string, unknown>;
}

export interface ExecuteOptions {
  /** Overrides the client's `commandTimeoutMs`; 0 means none. */
  timeoutMs?: number;
}

interface PendingCommand {
  id: number;
  command: string;
  args: Record<string, unknown> | undefined;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** One connection attempt and, if it succeeds, the connection's life. */
interface Session {
  phase: 'greeting' | 'negotiating' | 'ready' | 'closed';
  transport: Transport | null;
  greeting: { resolve(message: Record<string, unknown>): void; reject(error: QmpError): void } | null;
  /** The first message, if it came before anyone waited for it. */
  early: Record<string, unknown> | null;
  closed: Promise<void>;
  markClosed(): void;
}

const LATE_REPLIES_REMEMBERED = 1024;

/**
 * A QMP client for one QEMU monitor socket: greeting, `qmp_capabilities`, commands with ids and
 * timeouts, events, and the connection state. It knows nothing about guests or the dashboard;
 * every error names the endpoint so that the caller can say which guest it was.
 */
export class QmpClient {
  /** The socket path or HOST:PORT, as errors and logs name it. */
  readonly name: string;
  readonly state$: Observable<ConnectionState>;
  /** QEMU's asynchronous events, with QEMU's timestamps; completes when the client is closed for good. */
  readonly events$: Observable<QmpEvent>;
  /** Every message sent and received, in order; completes with `events$`. */
  readonly traffic$: Observable<QmpTraffic>;

  private readonly stateSubject = new BehaviorSubject<ConnectionState>({ status: 'idle' });
  private readonly eventSubject = new Subject<QmpEvent>();
  private readonly trafficSubject = new Subject<QmpTraffic>();
  private readonly pending = new Map<number, PendingCommand>();
  private readonly lateReplies = new Map<number, string>();
  private readonly logger: QmpLogger;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly maxLineLength: number;
  private readonly reconnect: Required<ReconnectOptions> | null;
  private session: Session | null = null;
  private lastGreeting: QmpGreeting | null = null;
  private nextId = 1;
  private started = false;
  private closedByClient = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly endpoint: QmpEndpoint,
    options: QmpClientOptions = {},
  ) {
    this.name = describeEndpoint(endpoint);
    this.logger = options.logger ?? silentLogger;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    const r = options.reconnect === true ? {} : options.reconnect || null;
    this.reconnect = r && {
      initialDelayMs: r.initialDelayMs ?? 200,
      maxDelayMs: r.maxDelayMs ?? 10_000,
      factor: r.factor ?? 2,
      maxAttempts: r.maxAttempts ?? Infinity,
      retryFirst: r.retryFirst ?? false,
    };
    this.state$ = this.stateSubject.asObservable();
    this.events$ = this.eventSubject.asObservable();
    this.traffic$ = this.trafficSubject.asObservable();
  }

  get state(): ConnectionState {
    return this.stateSubject.value;
  }

  /** The greeting of the current (or last) connection. */
  get greeting(): QmpGreeting | null {
    const state = this.stateSubject.value;
    return state.status === 'ready' ? state.greeting : this.lastGreeting;
  }

  /**
   * Connects, reads the greeting and negotiates capabilities. Called once per client.
   * @throws ConnectError when the socket cannot be reached
   * @throws GreetingError when no QMP greeting arrives in time
   * @throws NegotiationError when `qmp_capabilities` fails
   */
  async connect(): Promise<QmpGreeting> {
    if (this.started) throw new Error(`QmpClient for ${this.name}: connect() was already called`);
    this.started = true;
    try {
      return await this.establish(1);
    } catch (error) {
      const qmpError = this.asQmpError(error);
      if (!this.closedByClient) {
        if (this.reconnect?.retryFirst && this.reconnect.maxAttempts > 0) {
          this.setClosed(qmpError.message, qmpError, true);
          this.scheduleReconnect(1);
        } else this.setClosed(qmpError.message, qmpError, false);
      }
      throw qmpError;
    }
  }

  /**
   * Runs one command and resolves with its `return` value.
   * @throws ExecuteError when QEMU answers with an error (class, desc and the command)
   * @throws QmpTimeoutError when no answer comes within the timeout
   * @throws ConnectionClosedError when the connection is not ready or closes first
   */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options: ExecuteOptions = {}): Promise<T> {
    const session = this.session;
    if (session === null || session.phase !== 'ready') {
      return Promise.reject(new ConnectionClosedError(this.name, this.notReadyReason(), command));
    }
    return this.send(session, command, args, options.timeoutMs ?? this.commandTimeoutMs) as Promise<T>;
  }

  /**
   * The first event matching `predicate` within `timeoutMs`. It is subscribed when this returns,
   * so start waiting before sending the command that causes the event. Rejects with
   * QmpTimeoutError, or ConnectionClosedError when the connection is lost first.
   */
  waitForEvent(predicate: EventPredicate, options: WaitForEventOptions): Promise<QmpEvent> {
    const what = options.description ?? 'a matching event';
    const interruptions$ = this.state$.pipe(
      filter((s): s is Extract<ConnectionState, { status: 'closed' }> => s.status === 'closed'),
      map((s) => new ConnectionClosedError(this.name, s.reason, what, s.error ? { cause: s.error } : undefined)),
    );
    return firstMatchingEvent(this.events$, interruptions$, this.name, predicate, options);
  }

  /** Closes the connection; pending commands fail at once with ConnectionClosedError. */
  async close(): Promise<void> {
    const session = this.session;
    if (!this.closedByClient) {
      this.closedByClient = true;
      clearTimeout(this.reconnectTimer);
      const reason = 'closed by the client';
      if (session !== null && session.phase !== 'closed') {
        session.greeting?.reject(new GreetingError(this.name, reason));
        session.transport?.close();
      }
      this.failPending(reason, null);
      const state = this.stateSubject.value;
      if (state.status !== 'closed' || state.willReconnect) this.setClosed(reason, null, false);
    }
    if (session !== null && session.transport !== null) await session.closed;
  }

  private async establish(attempt: number): Promise<QmpGreeting> {
    this.stateSubject.next({ status: 'connecting', attempt });
    const session = this.newSession();
    const started = performance.now();
    const remainingMs = () => Math.max(1, this.connectTimeoutMs - (performance.now() - started));

    session.transport = await openTransport(
      this.endpoint,
      { maxLineLength: this.maxLineLength, timeoutMs: this.connectTimeoutMs },
      { onMessage: (message) => this.onMessage(session, message), onClose: (why) => this.onClose(session, why) },
    );
    if (this.closedByClient) {
      session.transport.close();
      throw new ConnectionClosedError(this.name, 'closed by the client', 'the QMP greeting');
    }

    const greeting = parseGreeting(await this.awaitGreeting(session, remainingMs()));
    if (!greeting.ok) {
      session.transport.fail(greeting.detail);
      throw new GreetingError(this.name, greeting.detail);
    }

    session.phase = 'negotiating';
    // We do not ask for out-of-band execution, so QEMU answers commands in the order they
    // were sent (qmp-spec, "Out-of-band execution"); the client relies on that below.
    try {
      await this.send(session, 'qmp_capabilities', undefined, remainingMs());
    } catch (error) {
      session.transport.fail('capabilities negotiation failed');
      const detail = error instanceof ExecuteError ? `${error.errorClass}: ${error.desc}` : this.asQmpError(error).message;
      throw new NegotiationError(this.name, detail, { cause: error });
    }

    session.phase = 'ready';
    this.lastGreeting = greeting.greeting;
    this.stateSubject.next({ status: 'ready', greeting: greeting.greeting });
    return greeting.greeting;
  }

  private newSession(): Session {
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const session: Session = { phase: 'greeting', transport: null, greeting: null, early: null, closed, markClosed };
    this.session = session;
    return session;
  }

  private awaitGreeting(session: Session, timeoutMs: number): Promise<Record<string, unknown>> {
    if (session.early !== null) return Promise.resolve(session.early);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        session.greeting = null;
        session.transport?.fail('no greeting');
        reject(new GreetingError(this.name, `none arrived within ${this.connectTimeoutMs} ms`, { cause: new QmpTimeoutError(this.name, 'the QMP greeting', this.connectTimeoutMs) }));
      }, timeoutMs);
      session.greeting = {
        resolve: (message) => {
          clearTimeout(timer);
          session.greeting = null;
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          session.greeting = null;
          reject(error);
        },
      };
    });
  }

  private send(session: Session, command: string, args: Record<string, unknown> | undefined, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const entry: PendingCommand = { id, command, args, resolve, reject, timer: undefined };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) entry.timer = setTimeout(() => this.onTimeout(entry, timeoutMs), timeoutMs);
      this.pending.set(id, entry);
      // Built only for a listener: the message object costs nothing when no session is recorded.
      if (this.trafficSubject.observed) this.trafficSubject.next({ direction: 'sent', message: { execute: command, ...(args === undefined ? {} : { arguments: args }), id } });
      const argsJson = args === undefined ? '' : `,"arguments":${JSON.stringify(args)}`;
      session.transport?.send(`{"execute":${JSON.stringify(command)}${argsJson},"id":${id}}`);
    });
  }

  private onTimeout(entry: PendingCommand, timeoutMs: number): void {
    if (!this.pending.delete(entry.id)) return;
    this.lateReplies.set(entry.id, entry.command);
    if (this.lateReplies.size > LATE_REPLIES_REMEMBERED) this.lateReplies.delete(this.lateReplies.keys().next().value as number);
    entry.reject(new QmpTimeoutError(this.name, entry.command, timeoutMs));
  }

  private onMessage(session: Session, message: Record<string, unknown>): void {
    if (session !== this.session) return;
    this.trafficSubject.next({ direction: 'received', message });
    if (session.phase === 'greeting') {
      if (session.greeting) session.greeting.resolve(message);
      else session.early ??= message;
      return;
    }
    if (typeof message.event === 'string') {
      this.eventSubject.next(toEvent(message));
      return;
    }
    if ('id' in message) {
      const entry = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
      if (entry !== undefined) this.settle(entry, message, true);
      else this.dropUnknownReply(message);
      return;
    }
    if ('error' in message) {
      this.onErrorWithoutId(session, message);
      return;
    }
    this.logger.log('warn', 'dropped a message that is neither a reply nor an event', { endpoint: this.name, message });
  }

  private settle(entry: PendingCommand, message: Record<string, unknown>, hadId: boolean): void {
    this.pending.delete(entry.id);
    clearTimeout(entry.timer);
    if ('return' in message) {
      entry.resolve(message.return);
      return;
    }
    const error = message.error as { class?: unknown; desc?: unknown } | undefined;
    if (error && typeof error === 'object' && typeof error.class === 'string' && typeof error.desc === 'string') {
      entry.reject(new ExecuteError(this.name, entry.command, entry.args, error.class, error.desc, hadId));
      return;
    }
    const shape = 'error' in message ? 'a malformed error' : 'neither "return" nor "error"';
    entry.reject(new ProtocolError(this.name, `the reply to ${entry.command} has ${shape}: ${JSON.stringify(message).slice(0, 120)}`));
  }

  private dropUnknownReply(message: Record<string, unknown>): void {
    const late = typeof message.id === 'number' ? this.lateReplies.get(message.id) : undefined;
    if (late !== undefined) {
      this.lateReplies.delete(message.id as number);
      this.logger.log('warn', `dropped the reply to ${late}, which came after its timeout`, { endpoint: this.name, id: message.id });
      return;
    }
    // qmp-spec, "Commands Responses": "Clients should drop all the responses that have an
    // unknown id field."
    this.logger.log('warn', 'dropped a reply with an unknown id', { endpoint: this.name, id: message.id, message });
  }

  /**
   * qmp-spec, "Error": "NOTE: Some errors can occur before the Server is able to read the id
   * member; in these cases the id member will not be part of the error response, even if
   * provided by the client." Such an error answers the oldest command still waiting: without
   * out-of-band execution the server "reads, executes and responds to one command after the
   * other" ("Out-of-band execution"). But its JSON parser has then lost step with our input:
   * QEMU 7.2, given one command nested too deeply, answers with a burst of id-less errors and
   * swallows the commands that follow. So, like QEMU's python client, we do not try to
   * resynchronise: the oldest command fails with QEMU's words, and the connection is closed
   * so that no later reply can be given to the wrong command.
   */
  private onErrorWithoutId(session: Session, message: Record<string, unknown>): void {
    const oldest = this.pending.values().next();
    const error = message.error as { desc?: unknown } | undefined;
    const desc = error && typeof error.desc === 'string' ? error.desc : JSON.stringify(message).slice(0, 120);
    if (!oldest.done) this.settle(oldest.value, message, false);
    this.logger.log('error', 'QEMU could not parse a command; closing the connection', { endpoint: this.name, message });
    session.transport?.fail(`QEMU could not parse a command (${desc}), so its parser is out of step with this client`);
  }

  private onClose(session: Session, why: TransportClose): void {
    const wasReady = session.phase === 'ready';
    session.phase = 'closed';
    session.markClosed();
    if (session !== this.session || this.closedByClient) return;
    const reason = describeClose(why);
    const error = why.kind === 'protocol' ? new ProtocolError(this.name, why.detail) : new ConnectionClosedError(this.name, reason);
    session.greeting?.reject(new GreetingError(this.name, `the connection closed before it: ${reason}`, { cause: error }));
    this.failPending(reason, error, why.kind === 'eof' || (why.kind === 'socket-error' && isReset(why.error)));
    // A connection that never became ready is reported by establish() to its caller.
    if (wasReady) this.afterLoss(reason, error);
  }

  private afterLoss(reason: string, error: QmpError): void {
    if (this.reconnect !== null && this.reconnect.maxAttempts > 0) {
      this.setClosed(reason, error, true);
      this.scheduleReconnect(1);
    } else {
      this.setClosed(reason, error, false);
    }
  }

  private scheduleReconnect(attempt: number): void {
    const r = this.reconnect!;
    const delay = Math.min(r.maxDelayMs, r.initialDelayMs * r.factor ** (attempt - 1));
    this.reconnectTimer = setTimeout(() => void this.reconnectAttempt(attempt), delay);
  }

  private async reconnectAttempt(attempt: number): Promise<void> {
    if (this.closedByClient) return;
    try {
      await this.establish(attempt);
      this.logger.log('info', 'reconnected', { endpoint: this.name, attempt });
    } catch (error) {
      if (this.closedByClient) return;
      const qmpError = this.asQmpError(error);
      const again = attempt < this.reconnect!.maxAttempts;
      this.setClosed(qmpError.message, qmpError, again);
      if (again) this.scheduleReconnect(attempt + 1);
    }
  }

  private failPending(reason: string, cause: QmpError | null, qemuHungUp = false): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      clearTimeout(entry.timer);
      // QEMU answers quit and exits at once. Its reply can be lost on the way (over TCP, its
      // reset destroyed the reply 17 times in 30 with QEMU 7.2): QEMU hanging up is then the answer.
      if (entry.command === 'quit' && qemuHungUp) {
        this.logger.log('info', 'QEMU hung up before answering quit; taking that as done', { endpoint: this.name });
        entry.resolve({});
        continue;
      }
      entry.reject(new ConnectionClosedError(this.name, reason, entry.command, cause ? { cause } : undefined));
    }
  }

  private setClosed(reason: string, error: QmpError | null, willReconnect: boolean): void {
    this.stateSubject.next({ status: 'closed', reason, error, willReconnect });
    if (!willReconnect) {
      this.eventSubject.complete();
      this.trafficSubject.complete();
    }
  }

  private notReadyReason(): string {
    const state = this.stateSubject.value;
    if (state.status === 'closed') return state.reason;
    return state.status === 'idle' ? 'not connected yet' : 'still connecting';
  }

  private asQmpError(error: unknown): QmpError {
    if (error instanceof QmpError) return error;
    return new QmpError(`${this.name}: ${error instanceof Error ? error.message : String(error)}`, this.name, { cause: error });
  }
}

const isReset = (error: NodeJS.ErrnoException) => error.code === 'ECONNRESET' || error.code === 'EPIPE';

function describeClose(why: TransportClose): string {
  switch (why.kind) {
    case 'local':
      return 'closed by the client';
    case 'eof':
      return why.midMessage ? 'QEMU closed the connection in the middle of a message' : 'QEMU closed the connection';
    case 'socket-error':
      // A QEMU that dies with our command unread in its socket resets the connection.
      if (isReset(why.error)) return `QEMU closed the connection (${describeSocketError(why.error)})`;
      return `socket error: ${describeSocketError(why.error)}`;
    case 'protocol':
      return `protocol error: ${why.detail}`;
  }
}

/** Connects a new client and resolves once it is ready for commands. */
export async function connectQmp(endpoint: QmpEndpoint, options: QmpClientOptions = {}): Promise<QmpClient> {
  const client = new QmpClient(endpoint, options);
  await client.connect();
  return client;
}
