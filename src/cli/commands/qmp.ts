import type { Command } from 'commander';
import { printJson } from '../context.js';
import { failure, usageError } from '../exit-codes.js';
import { parseTcpEndpoint, unixEndpoint, type QmpEndpoint } from '../../qmp/endpoint.js';
import { QmpError } from '../../qmp/errors.js';
import type { QmpClient } from '../../qmp/client.js';

/** The client (and RxJS with it) loads only when a QMP command really runs. */
async function newClient(endpoint: QmpEndpoint, timeoutMs: number): Promise<QmpClient> {
  const { QmpClient } = await import('../../qmp/client.js');
  return new QmpClient(endpoint, { connectTimeoutMs: timeoutMs, commandTimeoutMs: timeoutMs });
}

interface QmpOptions {
  socket?: string;
  tcp?: string;
  events?: boolean;
  count?: string;
  timeout?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export function registerQmp(program: Command): void {
  program
    .command('qmp')
    .description("run one QMP command on a QEMU monitor socket and print its return value as JSON, or print QEMU's events")
    .argument('[command]', 'the QMP command, e.g. query-status')
    .argument('[json-args]', 'its arguments as a JSON object, e.g. \'{"id": "nic1"}\'')
    .option('--socket <path>', "the guest's QMP unix socket")
    .option('--tcp <host:port>', 'a QMP TCP endpoint instead of a socket')
    .option('--events', 'print events as JSON lines until the connection closes (or Ctrl-C)')
    .option('--count <n>', 'with --events: stop after N events')
    .option('--timeout <ms>', 'how long to wait for QEMU to connect and to answer', String(DEFAULT_TIMEOUT_MS))
    .action(async (command: string | undefined, jsonArgs: string | undefined, options: QmpOptions) => {
      const endpoint = endpointFrom(options);
      const timeoutMs = positiveInteger('--timeout', options.timeout ?? String(DEFAULT_TIMEOUT_MS));
      if (options.events) {
        if (command !== undefined) throw usageError('--events takes no COMMAND; run the command separately');
        const count = options.count === undefined ? null : positiveInteger('--count', options.count);
        await printEvents(endpoint, timeoutMs, count);
        return;
      }
      if (options.count !== undefined) throw usageError('--count goes with --events');
      if (command === undefined) throw usageError('name a QMP command (e.g. query-status), or pass --events');
      await runCommand(endpoint, timeoutMs, command, parseArgs(jsonArgs));
    });
}

function endpointFrom(options: QmpOptions): QmpEndpoint {
  if (options.socket !== undefined && options.tcp !== undefined) throw usageError('pass either --socket or --tcp, not both');
  if (options.socket !== undefined) {
    if (options.socket === '') throw usageError('--socket needs a path');
    return unixEndpoint(options.socket);
  }
  if (options.tcp !== undefined) {
    const endpoint = parseTcpEndpoint(options.tcp);
    if (!endpoint) throw usageError(`--tcp wants HOST:PORT, got ${JSON.stringify(options.tcp)}`);
    return endpoint;
  }
  throw usageError('say where QEMU listens: --socket PATH or --tcp HOST:PORT');
}

function positiveInteger(option: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw usageError(`${option} wants a positive whole number, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function parseArgs(jsonArgs: string | undefined): Record<string, unknown> | undefined {
  if (jsonArgs === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(jsonArgs);
  } catch (error) {
    throw usageError(`JSON-ARGS is not valid JSON: ${oneLine((error as Error).message)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw usageError(`JSON-ARGS must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

async function runCommand(endpoint: QmpEndpoint, timeoutMs: number, command: string, args: Record<string, unknown> | undefined): Promise<void> {
  const client = await newClient(endpoint, timeoutMs);
  try {
    await client.connect();
    printJson(await client.execute(command, args));
  } catch (error) {
    throw asFailure(error);
  } finally {
    await client.close();
  }
}

async function printEvents(endpoint: QmpEndpoint, timeoutMs: number, count: number | null): Promise<void> {
  const client = await newClient(endpoint, timeoutMs);
  // Ctrl-C ends the stream quietly, even while still connecting: closing the client completes events$.
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    void client.close();
  };
  process.once('SIGINT', onSigint);
  try {
    const ended = new Promise<void>((resolve) => {
      let seen = 0;
      client.events$.subscribe({
        next: (event) => {
          if (count !== null && seen >= count) return;
          process.stdout.write(JSON.stringify(event) + '\n');
          if (count !== null && ++seen >= count) resolve();
        },
        // The connection closed (QEMU quit, or Ctrl-C): that ends the stream, not an error.
        complete: resolve,
      });
    });
    try {
      await client.connect();
    } catch (error) {
      if (interrupted) return;
      throw asFailure(error);
    }
    await ended;
  } finally {
    process.off('SIGINT', onSigint);
    await client.close();
  }
}

function asFailure(error: unknown): Error {
  if (error instanceof QmpError) return failure(oneLine(error.message));
  return error instanceof Error ? error : new Error(String(error));
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
