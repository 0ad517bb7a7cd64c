/**
 * The QMP client's errors, one class per thing that can go wrong, in the spirit of QEMU's own
 * python/qemu/qmp error hierarchy. Each carries the endpoint (a guest's name is not known down
 * here; higher layers map the endpoint to it) and what it needs to be reported in QEMU's words.
 */
export class QmpError extends Error {
  constructor(
    message: string,
    /** The socket path or HOST:PORT the client talks to. */
    readonly endpoint: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The socket could not be reached at all (no such file, refused, permission denied, ...). */
export class ConnectError extends QmpError {
  constructor(
    endpoint: string,
    /** Why, in words (`no such file or directory`). */
    readonly reason: string,
    /** The system error code (`ENOENT`, `ECONNREFUSED`, ...) when there is one. */
    readonly code: string | null,
    options?: ErrorOptions,
  ) {
    super(`cannot connect to QMP at ${endpoint}: ${reason}${code ? ` (${code})` : ''}`, endpoint, options);
  }
}

/** The server's greeting did not arrive in time or was not a QMP greeting. */
export class GreetingError extends QmpError {
  constructor(endpoint: string, detail: string, options?: ErrorOptions) {
    super(`no usable QMP greeting from ${endpoint}: ${detail}`, endpoint, options);
  }
}

/** `qmp_capabilities` failed, so the server never entered command mode. */
export class NegotiationError extends QmpError {
  constructor(endpoint: string, detail: string, options?: ErrorOptions) {
    super(`QMP capabilities negotiation with ${endpoint} failed: ${detail}`, endpoint, options);
  }
}

/** QEMU answered a command with an error reply. */
export class ExecuteError extends QmpError {
  constructor(
    endpoint: string,
    /** The command that was sent. */
    readonly command: string,
    readonly args: Readonly<Record<string, unknown>> | undefined,
    /** QMP's error class, e.g. `GenericError`, `DeviceNotFound`, `CommandNotFound`. */
    readonly errorClass: string,
    /** QEMU's own description of the error. */
    readonly desc: string,
    /** False when QEMU could not read the command's id (a parse error; see the client). */
    readonly hadId: boolean = true,
  ) {
    super(`${command} on ${endpoint} failed: ${errorClass}: ${desc}`, endpoint);
  }
}

/** The connection is gone (or not ready); pending commands and event waits fail with this at once. */
export class ConnectionClosedError extends QmpError {
  constructor(
    endpoint: string,
    /** Why the connection closed, in words. */
    readonly reason: string,
    /** The command (or event) that was awaited, if any. */
    readonly awaited?: string,
    options?: ErrorOptions,
  ) {
    super(
      awaited
        ? `connection to ${endpoint} closed while waiting for ${awaited}: ${reason}`
        : `connection to ${endpoint} closed: ${reason}`,
      endpoint,
      options,
    );
  }
}

/** The server sent something that is not QMP (not JSON, not an object, a line over the limit). */
export class ProtocolError extends QmpError {
  constructor(
    endpoint: string,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`QMP protocol error from ${endpoint}: ${detail}`, endpoint, options);
  }
}

/** A command, the greeting, or an awaited event did not come within its time limit. */
export class QmpTimeoutError extends QmpError {
  constructor(
    endpoint: string,
    /** What was awaited: a command's name or a description of the event. */
    readonly awaited: string,
    readonly timeoutMs: number,
  ) {
    super(`${awaited} on ${endpoint} got no answer within ${timeoutMs} ms`, endpoint);
  }
}
