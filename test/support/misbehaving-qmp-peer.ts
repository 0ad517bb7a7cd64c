import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A QMP server written for the tests, on a unix socket in a temp dir, that a test scripts line by
 * line to misbehave: split replies, packed messages, stray ids, garbage, early hang-ups.
 */
export interface PeerCommand {
  execute: string;
  arguments?: Record<string, unknown>;
  id?: unknown;
}

export interface PeerConnection {
  /** Every line the client sent, in order. */
  readonly received: readonly string[];
  /** The next command the client sends (qmp_capabilities is answered by the peer unless told not to). */
  nextCommand(): Promise<PeerCommand>;
  /** Sends a message as QEMU does: JSON and CRLF. */
  send(message: unknown): void;
  /** Sends bytes as they are. */
  sendRaw(data: string | Buffer): void;
  /** Sends each byte in its own write, letting the client read between them. */
  sendByteByByte(data: string | Buffer): Promise<void>;
  /** Half-closes like a QEMU that quits. */
  end(): void;
  readonly closed: Promise<void>;
}

export interface PeerOptions {
  /** The greeting: QEMU-like by default, raw text if a string, none at all if null. */
  greeting?: string | null;
  /** Answer qmp_capabilities with success (default), or hand it to the test. */
  negotiate?: boolean;
}

export interface MisbehavingPeer {
  readonly path: string;
  /** The next client connection, greeted and (by default) negotiated. */
  nextConnection(): Promise<PeerConnection>;
  /** How many clients have connected so far. */
  connectionCount(): number;
  close(): Promise<void>;
}

export const PEER_GREETING = { QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'misbehaving peer' }, capabilities: ['oob'] } };

export const line = (message: unknown): string => JSON.stringify(message) + '\r\n';

export async function startMisbehavingPeer(options: PeerOptions = {}): Promise<MisbehavingPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'hotslot-peer-'));
  const path = join(dir, 'qmp.sock');
  const sockets = new Set<Socket>();
  const accepted: PeerConnection[] = [];
  const waiting: Array<(connection: PeerConnection) => void> = [];

  let connectionCount = 0;
  const server: Server = createServer((socket) => {
    connectionCount++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const connection = wrap(socket, options);
    const waiter = waiting.shift();
    if (waiter) waiter(connection);
    else accepted.push(connection);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });

  return {
    path,
    nextConnection() {
      const ready = accepted.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
    connectionCount: () => connectionCount,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function wrap(socket: Socket, options: PeerOptions): PeerConnection {
  const received: string[] = [];
  const commands: PeerCommand[] = [];
  const waiting: Array<(command: PeerCommand) => void> = [];
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  let buffer = '';

  const write = (data: string | Buffer) => {
    if (!socket.destroyed && socket.writable) socket.write(data);
  };
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    buffer += text;
    let end: number;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      received.push(text);
      let command: PeerCommand;
      try {
        command = JSON.parse(text) as PeerCommand;
      } catch {
        continue;
      }
      if (command.execute === 'qmp_capabilities' && options.negotiate !== false) {
        write(line({ return: {}, id: command.id }));
        continue;
      }
      const waiter = waiting.shift();
      if (waiter) waiter(command);
      else commands.push(command);
    }
  });

  if (options.greeting !== null) write(options.greeting ?? line(PEER_GREETING));

  return {
    received,
    nextCommand() {
      const next = commands.shift();
      return next ? Promise.resolve(next) : new Promise((resolve) => waiting.push(resolve));
    },
    send: (message) => write(line(message)),
    sendRaw: write,
    async sendByteByByte(data) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      for (let i = 0; i < bytes.length; i++) {
        write(bytes.subarray(i, i + 1));
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    },
    end: () => socket.end(),
    closed,
  };
}
