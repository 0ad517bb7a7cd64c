/** Where a QMP server listens: QEMU's `-qmp unix:PATH,server=on` or `-qmp tcp:HOST:PORT,server=on`. */
export type QmpEndpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export const unixEndpoint = (path: string): QmpEndpoint => ({ kind: 'unix', path });

/** Parses `HOST:PORT` (an IPv6 host in brackets: `[::1]:4444`); returns null when it is not one. */
export function parseTcpEndpoint(text: string): QmpEndpoint | null {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { kind: 'tcp', host: match[1] ?? match[2], port };
}

/** How errors and logs name an endpoint, so that higher layers can say which guest it is. */
export function describeEndpoint(endpoint: QmpEndpoint): string {
  if (endpoint.kind === 'unix') return endpoint.path;
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}
