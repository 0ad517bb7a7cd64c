import fc from 'fast-check';
import { firstValueFrom, filter, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConnectError,
  ConnectionClosedError,
  ExecuteError,
  GreetingError,
  NegotiationError,
  ProtocolError,
  QmpClient,
  QmpTimeoutError,
  eventMatching,
  unixEndpoint,
  type ConnectionState,
  type QmpClientOptions,
  type QmpEvent,
  type QmpLogger,
} from '../../src/qmp/index.js';
import { line, PEER_GREETING, startMisbehavingPeer, type MisbehavingPeer, type PeerConnection } from '../support/misbehaving-qmp-peer.js';

interface LogEntry {
  level: string;
  message: string;
  fields?: Readonly<Record<string, unknown>>;
}

let peer: MisbehavingPeer;
const clients: QmpClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await peer?.close();
});

function recordingLogger(): QmpLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return { entries, log: (level, message, fields) => entries.push({ level, message, fields }) };
}

function newClient(options: QmpClientOptions = {}): QmpClient {
  const client = new QmpClient(unixEndpoint(peer.path), { connectTimeoutMs: 2000, ...options });
  clients.push(client);
  return client;
}

/** A client connected to a fresh, well-behaved-so-far peer, and the peer's side of it. */
async function connected(options: QmpClientOptions = {}): Promise<{ client: QmpClient; conn: PeerConnection }> {
  const client = newClient(options);
  const [conn] = await Promise.all([peer.nextConnection(), client.connect()]);
  return { client, conn };
}

const closedState = (client: QmpClient) =>
  firstValueFrom(client.state$.pipe(filter((s): s is Extract<ConnectionState, { status: 'closed' }> => s.status === 'closed')));

const ts = { seconds: 1700000000, microseconds: 123456 };

describe('QMP client against a peer that behaves', () => {
  beforeEach(async () => {
    peer = await startMisbehavingPeer();
  });

  it('reads the greeting, negotiates, and reports connecting then ready', async () => {
    const client = newClient();
    const states: string[] = [];
    client.state$.subscribe((s) => states.push(s.status));
    const [greeting, conn] = await Promise.all([client.connect(), peer.nextConnection()]);
    expect(greeting).toEqual({ version: { major: 7, minor: 2, micro: 0, package: 'misbehaving peer' }, capabilities: ['oob'] });
    expect(states).toEqual(['idle', 'connecting', 'ready']);
    expect(JSON.parse(conn.received[0])).toMatchObject({ execute: 'qmp_capabilities' });
  });

  it('sends each command with its own id and hands each reply to the command it answers', async () => {
    const { client, conn } = await connected();
    const a = client.execute('query-status');
    const b = client.execute('query-name', { x: 1 });
    const [ca, cb] = [await conn.nextCommand(), await conn.nextCommand()];
    expect(ca.id).not.toEqual(cb.id);
    expect(cb).toEqual({ execute: 'query-name', arguments: { x: 1 }, id: cb.id });
    conn.send({ return: { name: 'second' }, id: cb.id });
    conn.send({ return: { status: 'running' }, id: ca.id });
    expect(await a).toEqual({ status: 'running' });
    expect(await b).toEqual({ name: 'second' });
  });

  it('shows every message on the wire, greeting and negotiation included, in the order they went and came', async () => {
    const client = newClient();
    const wire: string[] = [];
    client.traffic$.subscribe({
      next: ({ direction, message }) => wire.push(`${direction} ${JSON.stringify(message)}`),
      complete: () => wire.push('complete'),
    });
    const [conn] = await Promise.all([peer.nextConnection(), client.connect()]);
    const reply = client.execute('device_del', { id: 'hs-1' });
    const { id } = await conn.nextCommand();
    conn.send({ event: 'DEVICE_DELETED', timestamp: ts, data: { device: 'hs-1' } });
    conn.send({ return: {}, id });
    await reply;
    await client.close();
    const idText = JSON.stringify(id);
    expect(wire).toEqual([
      `received ${JSON.stringify(PEER_GREETING)}`,
      'sent {"execute":"qmp_capabilities","id":1}',
      'received {"return":{},"id":1}',
      `sent {"execute":"device_del","arguments":{"id":"hs-1"},"id":${idText}}`,
      `received ${JSON.stringify({ event: 'DEVICE_DELETED', timestamp: ts, data: { device: 'hs-1' } })}`,
      `received {"return":{},"id":${idText}}`,
      'complete',
    ]);
  });

  it('puts together a reply that arrives one byte at a time, including multi-byte characters', async () => {
    const { client, conn } = await connected();
    const reply = client.execute('query-name');
    const { id } = await conn.nextCommand();
    await conn.sendByteByByte(line({ return: { name: 'Grüße ✓ 🚀 gast' }, id }));
    expect(await reply).toEqual({ name: 'Grüße ✓ 🚀 gast' });
  });

  it('sends non-ASCII arguments as UTF-8 and reads them back unchanged', async () => {
    const { client, conn } = await connected();
    const reply = client.execute('echo', { text: 'Ünïcødé — 日本語 🚀' });
    const command = await conn.nextCommand();
    expect(command.arguments).toEqual({ text: 'Ünïcødé — 日本語 🚀' });
    conn.send({ return: command.arguments, id: command.id });
    expect(await reply).toEqual({ text: 'Ünïcødé — 日本語 🚀' });
  });

  it('handles several replies and events packed into one packet', async () => {
    const { client, conn } = await connected();
    const events: QmpEvent[] = [];
    client.events$.subscribe((e) => events.push(e));
    const a = client.execute('one');
    const b = client.execute('two');
    const [ca, cb] = [await conn.nextCommand(), await conn.nextCommand()];
    conn.sendRaw(
      line({ event: 'STOP', timestamp: ts }) +
        line({ return: 1, id: ca.id }) +
        line({ event: 'RESUME', timestamp: ts, data: { why: 'x' } }) +
        line({ return: 2, id: cb.id }),
    );
    expect([await a, await b]).toEqual([1, 2]);
    expect(events).toEqual([
      { event: 'STOP', data: {}, timestamp: ts },
      { event: 'RESUME', data: { why: 'x' }, timestamp: ts },
    ]);
  });

  it('delivers events interleaved with replies in the order QEMU sent them, with its timestamps', async () => {
    const { client, conn } = await connected();
    const names: string[] = [];
    client.events$.subscribe((e) => names.push(`${e.event}@${e.timestamp.seconds}.${e.timestamp.microseconds}`));
    const reply = client.execute('cont');
    const { id } = await conn.nextCommand();
    conn.send({ event: 'A', timestamp: { seconds: 10, microseconds: 1 } });
    conn.send({ return: {}, id });
    conn.send({ event: 'B', timestamp: { seconds: 11, microseconds: 2 } });
    await reply;
    const next = client.execute('stop');
    const second = await conn.nextCommand();
    conn.send({ return: {}, id: second.id });
    await next;
    expect(names).toEqual(['A@10.1', 'B@11.2']);
  });

  it('raises a QMP error as an ExecuteError with the class, the description and the command', async () => {
    const { client, conn } = await connected();
    const reply = client.execute('device_add', { driver: 'nope' });
    const { id } = await conn.nextCommand();
    conn.send({ id, error: { class: 'GenericError', desc: "'nope' is not a valid device model name" } });
    const error = await reply.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecuteError);
    expect(error).toMatchObject({ errorClass: 'GenericError', desc: "'nope' is not a valid device model name", command: 'device_add', args: { driver: 'nope' }, endpoint: peer.path });
    expect((error as Error).message).toContain(peer.path);
  });

  it('drops a reply with an unknown id, says so in the log, and still answers the real command', async () => {
    const logger = recordingLogger();
    const { client, conn } = await connected({ logger });
    const reply = client.execute('query-status');
    const { id } = await conn.nextCommand();
    conn.send({ return: 'stray', id: 'not-ours' });
    conn.send({ return: 'stray too', id: 987654 });
    conn.send({ return: 'mine', id });
    expect(await reply).toBe('mine');
    expect(logger.entries.filter((e) => e.message.includes('unknown id')).map((e) => e.fields?.id)).toEqual(['not-ours', 987654]);
  });

  it('fails a command that gets no answer in time, then drops and logs its late reply', async () => {
    const logger = recordingLogger();
    const { client, conn } = await connected({ logger });
    const slow = client.execute('slow', undefined, { timeoutMs: 50 });
    const first = await conn.nextCommand();
    const error = await slow.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpTimeoutError);
    expect(error).toMatchObject({ awaited: 'slow', timeoutMs: 50 });
    conn.send({ return: 'too late', id: first.id });
    const next = client.execute('fast');
    const second = await conn.nextCommand();
    conn.send({ return: 'ok', id: second.id });
    expect(await next).toBe('ok');
    expect(logger.entries.some((e) => e.message.includes('reply to slow, which came after its timeout'))).toBe(true);
  });

  it('fails an error reply without an id onto the oldest waiting command, then closes the connection', async () => {
    const logger = recordingLogger();
    const { client, conn } = await connected({ logger });
    const oldest = client.execute('device_add', { deep: 1 });
    const younger = client.execute('query-status');
    await conn.nextCommand();
    await conn.nextCommand();
    conn.send({ error: { class: 'GenericError', desc: 'JSON nesting depth limit exceeded' } });
    const first = await oldest.catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ExecuteError);
    expect(first).toMatchObject({ command: 'device_add', errorClass: 'GenericError', desc: 'JSON nesting depth limit exceeded', hadId: false });
    const second = await younger.catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ConnectionClosedError);
    expect((second as Error).message).toMatch(/query-status.*could not parse a command/);
    const closed = await closedState(client);
    expect(closed.error).toBeInstanceOf(ProtocolError);
    await conn.closed;
  });

  it('lets a caller wait for an event before sending the command that causes it, and misses nothing', async () => {
    const { client, conn } = await connected();
    const deleted = client.waitForEvent(eventMatching('DEVICE_DELETED', { device: 'nic1' }), { timeoutMs: 5000 });
    const reply = client.execute('device_del', { id: 'nic1' });
    const { id } = await conn.nextCommand();
    // QEMU may send the event before the reply: both in one packet.
    conn.sendRaw(
      line({ event: 'DEVICE_DELETED', timestamp: ts, data: { device: 'other', path: '/x' } }) +
        line({ event: 'DEVICE_DELETED', timestamp: ts, data: { device: 'nic1', path: '/machine/peripheral/nic1' } }) +
        line({ return: {}, id }),
    );
    await reply;
    expect(await deleted).toEqual({ event: 'DEVICE_DELETED', timestamp: ts, data: { device: 'nic1', path: '/machine/peripheral/nic1' } });
  });

  it('gives up waiting for an event after its timeout, naming what it waited for', async () => {
    const { client } = await connected();
    const error = await client.waitForEvent(eventMatching('DEVICE_DELETED'), { timeoutMs: 30, description: 'DEVICE_DELETED for nic1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpTimeoutError);
    expect((error as Error).message).toContain('DEVICE_DELETED for nic1');
  });

  it('fails a waiting command and an event wait at once when the client closes', async () => {
    const { client, conn } = await connected();
    const pending = client.execute('query-status', undefined, { timeoutMs: 0 }).catch((e: unknown) => e);
    const waiting = client.waitForEvent(() => true, { timeoutMs: 60_000 });
    await conn.nextCommand();
    await client.close();
    expect(await pending).toBeInstanceOf(ConnectionClosedError);
    await expect(waiting).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(client.execute('query-status')).rejects.toThrow(/closed by the client/);
    expect(client.state).toMatchObject({ status: 'closed', reason: 'closed by the client', willReconnect: false });
  });

  it('refuses a command before the connection is ready', async () => {
    const client = newClient();
    await expect(client.execute('query-status')).rejects.toThrow(/query-status: not connected yet/);
  });

  it('reconnects with backoff after losing a ready connection, failing what was pending', async () => {
    const { client, conn } = await connected({ reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const states: ConnectionState[] = [];
    client.state$.subscribe((s) => states.push(s));
    const pending = client.execute('query-status', undefined, { timeoutMs: 0 });
    await conn.nextCommand();
    conn.end();
    await expect(pending).rejects.toThrow(/closed while waiting for query-status: QEMU closed the connection/);
    const again = await peer.nextConnection();
    await firstValueFrom(client.state$.pipe(filter((s) => s.status === 'ready')));
    const reply = client.execute('query-status');
    const { id } = await again.nextCommand();
    again.send({ return: { status: 'running' }, id });
    expect(await reply).toEqual({ status: 'running' });
    expect(states.map((s) => s.status)).toEqual(['ready', 'closed', 'connecting', 'ready']);
    expect(states[1]).toMatchObject({ reason: 'QEMU closed the connection', willReconnect: true });
  });

  it('fails a command with an error that says the connection closed when QEMU hangs up in the middle of a reply', async () => {
    const { client, conn } = await connected();
    const reply = client.execute('query-pci', undefined, { timeoutMs: 0 });
    const { id } = await conn.nextCommand();
    conn.sendRaw(line({ return: [{ bus: 0, devices: [] }], id }).slice(0, 20));
    conn.end();
    const error = await reply.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect((error as Error).message).toBe(`connection to ${peer.path} closed while waiting for query-pci: QEMU closed the connection in the middle of a message`);
    expect(client.state).toMatchObject({ status: 'closed', willReconnect: false });
  });

  it('takes QEMU hanging up after quit as its answer, since QEMU may exit before the reply gets out', async () => {
    const { client, conn } = await connected();
    const quit = client.execute('quit');
    const other = client.execute('query-status').catch((e: unknown) => e);
    await conn.nextCommand();
    conn.send({ event: 'SHUTDOWN', timestamp: ts, data: { guest: false, reason: 'host-qmp-quit' } });
    conn.end();
    expect(await quit).toEqual({});
    expect(await other).toBeInstanceOf(ConnectionClosedError);
  });

  it('closes the connection with a protocol error on a line that is not JSON, failing what was pending', async () => {
    const { client, conn } = await connected();
    const reply = client.execute('query-status', undefined, { timeoutMs: 0 });
    await conn.nextCommand();
    conn.sendRaw('Segmentation fault (core dumped)\r\n');
    await expect(reply).rejects.toThrow(/closed while waiting for query-status: protocol error: not JSON: "Segmentation fault \(core dumped\)"/);
    const closed = await closedState(client);
    expect(closed.error).toBeInstanceOf(ProtocolError);
    await conn.closed;
  });

  it('closes the connection with a protocol error on a line over the limit, whether it comes at once or trickles in', async () => {
    const { client, conn } = await connected({ maxLineLength: 4096 });
    const reply = client.execute('query-qmp-schema', undefined, { timeoutMs: 0 });
    const { id } = await conn.nextCommand();
    conn.sendRaw(line({ return: 'z'.repeat(10_000), id }));
    await expect(reply).rejects.toThrow(/protocol error: a line is longer than the limit of 4096 characters/);
    await conn.closed;

    const second = await connected({ maxLineLength: 4096 });
    const trickled = second.client.execute('query-qmp-schema', undefined, { timeoutMs: 0 }).catch((e: unknown) => e);
    const next = await second.conn.nextCommand();
    const body = line({ return: 'z'.repeat(10_000), id: next.id });
    for (let i = 0; i < body.length && !second.client.state.status.startsWith('closed'); i += 1000) {
      second.conn.sendRaw(body.slice(i, i + 1000));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(String(await trickled)).toMatch(/protocol error: a line is longer than the limit of 4096 characters/);
  });

  it('keeps events and replies straight however the stream is chunked (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant('reply' as const), fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
        async (script, sizes) => {
          const { client, conn } = await connected();
          const events: string[] = [];
          client.events$.subscribe((e) => events.push(String(e.data.n)));
          const replies = script.filter((s) => s === 'reply').length;
          const results = Array.from({ length: replies }, (_, i) => client.execute('cmd', { i }));
          const commands: Array<{ arguments?: Record<string, unknown>; id?: unknown }> = [];
          for (let i = 0; i < replies; i++) commands.push(await conn.nextCommand());
          const end = client.waitForEvent(eventMatching('END'), { timeoutMs: 5000 });
          let next = 0;
          const text =
            script
              .map((s) => (s === 'reply' ? line({ return: commands[next].arguments, id: commands[next++].id }) : line({ event: 'E', timestamp: ts, data: { n: s } })))
              .join('') + line({ event: 'END', timestamp: ts });
          const bytes = Buffer.from(text);
          for (let at = 0, k = 0; at < bytes.length; k++) {
            const size = sizes[k % sizes.length];
            conn.sendRaw(bytes.subarray(at, at + size));
            at += size;
            if (k % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
          }
          expect(await Promise.all(results)).toEqual(commands.map((c) => c.arguments));
          await end;
          expect(events).toEqual([...script.filter((s) => s !== 'reply'), 'undefined']);
          await client.close();
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('QMP client against a peer that does not speak QMP', () => {
  it('says it cannot connect, with the path and the reason, when nothing is at the path', async () => {
    peer = await startMisbehavingPeer();
    const missing = `${peer.path}.missing`;
    const client = new QmpClient(unixEndpoint(missing));
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toBe(`cannot connect to QMP at ${missing}: no such file or directory (ENOENT)`);
    expect(client.state).toMatchObject({ status: 'closed', willReconnect: false });
  });

  it('times out the connection when the peer never sends a greeting', async () => {
    peer = await startMisbehavingPeer({ greeting: null });
    const client = newClient({ connectTimeoutMs: 100 });
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GreetingError);
    expect((error as Error).message).toBe(`no usable QMP greeting from ${peer.path}: none arrived within 100 ms`);
    expect((error as Error).cause).toBeInstanceOf(QmpTimeoutError);
  });

  it('refuses a greeting that is not QMP', async () => {
    peer = await startMisbehavingPeer({ greeting: line({ hello: 'world' }) });
    const error = await newClient().connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GreetingError);
    expect((error as Error).message).toMatch(/not a QMP greeting .*"hello":"world"/);
  });

  it('reports a refused qmp_capabilities as a NegotiationError with QEMU\'s words', async () => {
    peer = await startMisbehavingPeer({ negotiate: false });
    const client = newClient();
    const connecting = client.connect().catch((e: unknown) => e);
    const conn = await peer.nextConnection();
    const { id, execute } = await conn.nextCommand();
    expect(execute).toBe('qmp_capabilities');
    conn.send({ id, error: { class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete' } });
    const error = await connecting;
    expect(error).toBeInstanceOf(NegotiationError);
    expect((error as Error).message).toContain('CommandNotFound: Capabilities negotiation is already complete');
  });

  it('completes events$ when the connection is closed for good', async () => {
    peer = await startMisbehavingPeer();
    const { client, conn } = await connected();
    const all = firstValueFrom(client.events$.pipe(toArray()));
    conn.send({ event: 'SHUTDOWN', timestamp: ts, data: { guest: false, reason: 'host-qmp-quit' } });
    conn.end();
    expect((await all).map((e) => e.event)).toEqual(['SHUTDOWN']);
  });
});
