import { connect, type Socket } from 'node:net';
import { describeEndpoint, type QmpEndpoint } from './endpoint.js';
import { ConnectError } from './errors.js';
import { createFrameDecoder, type FrameDecoder } from './framing.js';

/** Why a transport closed. */
export type TransportClose =
  | { kind: 'local' }
  | { kind: 'eof'; midMessage: boolean }
  | { kind: 'socket-error'; error: NodeJS.ErrnoException }
  | { kind: 'protocol'; detail: string };

export interface TransportHandlers {
  onMessage(message: Record<string, unknown>): void;
  /** Called once, whatever closed the connection. */
  onClose(why: TransportClose): void;
}

export interface Transport {
  /** Sends one QMP message (already serialised, without its newline). */
  send(json: string): void;
  /** Closes after pending writes are flushed. */
  close(): void;
  /** Closes at once with a protocol error, e.g. when the peer answers out of turn. */
  fail(detail: string): void;
}

const reasons: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ECONNREFUSED: 'connection refused (nothing is listening)',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTSOCK: 'not a socket',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  ECONNRESET: 'connection reset',
  EPIPE: 'broken pipe',
  EAGAIN: 'the server is not accepting connections (backlog full)',
};

export function describeSocketError(error: NodeJS.ErrnoException): string {
  return (error.code && reasons[error.code]) ?? error.message;
}

/**
 * Connects a unix or TCP socket and turns it into QMP messages, one per line. A line that is
 * not QMP closes the connection with a protocol error; nothing here throws at the caller.
 */
export function openTransport(
  endpoint: QmpEndpoint,
  options: { maxLineLength: number; timeoutMs: number },
  handlers: TransportHandlers,
): Promise<Transport> {
  const name = describeEndpoint(endpoint);
  return new Promise((resolve, reject) => {
    const socket: Socket = endpoint.kind === 'unix' ? connect({ path: endpoint.path }) : connect({ host: endpoint.host, port: endpoint.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectError(name, `timed out after ${options.timeoutMs} ms`, 'ETIMEDOUT'));
    }, options.timeoutMs);
    const onConnectError = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ConnectError(name, describeSocketError(error), error.code ?? null, { cause: error }));
    };
    socket.once('error', onConnectError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onConnectError);
      resolve(attach(socket, options.maxLineLength, handlers));
    });
  });
}

function attach(socket: Socket, maxLineLength: number, handlers: TransportHandlers): Transport {
  let closed = false;
  let why: TransportClose | null = null;
  let midMessage = false;
  socket.setNoDelay?.(true);

  const fail = (detail: string) => {
    if (why === null) why = { kind: 'protocol', detail };
    decoder.destroy();
    socket.destroy();
  };
  const decoder: FrameDecoder = createFrameDecoder(maxLineLength, (frame) => {
    if (why !== null) return;
    if (frame.ok) handlers.onMessage(frame.message);
    else fail(frame.detail);
  });

  socket.on('data', (chunk: Buffer) => {
    midMessage = chunk[chunk.length - 1] !== 0x0a;
    decoder.write(chunk);
  });
  socket.on('end', () => {
    if (why === null) why = { kind: 'eof', midMessage };
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (why === null) why = { kind: 'socket-error', error };
  });
  socket.on('close', () => {
    if (closed) return;
    closed = true;
    decoder.destroy();
    handlers.onClose(why ?? { kind: 'eof', midMessage });
  });

  return {
    send(json) {
      if (why === null && !socket.destroyed) socket.write(json + '\n');
    },
    close() {
      if (why === null) why = { kind: 'local' };
      socket.end(() => socket.destroy());
      // A peer that stops reading would hold our last writes, and the socket, forever.
      setTimeout(() => socket.destroy(), 1000).unref();
    },
    fail,
  };
}
