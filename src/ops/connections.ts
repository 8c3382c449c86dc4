import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Probes and scrapes are small requests from nearby clients: they need seconds, not
 * Node's defaults (60 s for headers, checked every 30 s, which let 300 slowloris sockets
 * hold the server for 87 s). Not configurable: no legitimate client of these paths needs
 * more, and a knob would only be one more way to reopen the hole.
 */
export interface HealthServerLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly checkIntervalMs: number;
  readonly maxConnections: number;
}

export const HEALTH_SERVER_LIMITS: HealthServerLimits = {
  /** From the connection (or the previous answer) to a request's complete headers. */
  headersTimeoutMs: 5_000,
  /** To the complete request, body included. */
  requestTimeoutMs: 10_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** How often Node checks the two timeouts above (its default, 30 s, is most of the hole). */
  checkIntervalMs: 1_000,
  /**
   * Open connections. Above it a new connection evicts the oldest one that is not being
   * answered (a slowloris socket, an idle keep-alive), so probes still get through while
   * the timeouts catch up; only when every connection is being answered is the new one
   * refused. Well above the thousand concurrent probes the health document is built for.
   */
  maxConnections: 2048,
};

/** For createServer: the interval is read only there. */
export function healthServerOptions(limits = HEALTH_SERVER_LIMITS): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  };
}

interface Connection {
  /** Requests being answered on it. */
  busy: number;
  deadline: NodeJS.Timeout | undefined;
}

/**
 * Caps the server's connections and gives each a fixed deadline to present a request,
 * from its opening and again after each answer. Node's headersTimeout starts only once a
 * request has begun: a socket that sends nothing, or only blank lines, is never timed out,
 * and an inactivity timeout is reset by each byte it trickles.
 */
export function guardConnections(server: Server, limits = HEALTH_SERVER_LIMITS): void {
  // Node's own hard stop, beyond ours, for sockets destroyed by eviction but not yet closed:
  // it refuses a connection before any of our code runs.
  server.maxConnections = Math.ceil(limits.maxConnections * 1.25);
  // A Map iterates in insertion order: the first idle entry is the oldest.
  const open = new Map<Socket, Connection>();
  const untilRequest = limits.headersTimeoutMs;
  const untilNextRequest = limits.keepAliveTimeoutMs + limits.headersTimeoutMs;

  const arm = (socket: Socket, connection: Connection, ms: number) => {
    clearTimeout(connection.deadline);
    connection.deadline = setTimeout(() => socket.destroy(), ms);
    connection.deadline.unref();
  };

  const evictIdle = (): boolean => {
    for (const [socket, connection] of open) {
      if (connection.busy > 0) continue;
      forget(socket);
      socket.destroy();
      return true;
    }
    return false;
  };

  const forget = (socket: Socket) => {
    const connection = open.get(socket);
    if (!connection) return;
    clearTimeout(connection.deadline);
    open.delete(socket);
  };

  server.on('connection', (socket: Socket) => {
    if (open.size >= limits.maxConnections && !evictIdle()) {
      socket.destroy();
      return;
    }
    const connection: Connection = { busy: 0, deadline: undefined };
    open.set(socket, connection);
    arm(socket, connection, untilRequest);
    socket.once('close', () => forget(socket));
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const connection = open.get(socket);
    if (!connection) return;
    connection.busy++;
    clearTimeout(connection.deadline);
    res.once('close', () => {
      connection.busy--;
      if (connection.busy === 0 && open.has(socket)) arm(socket, connection, untilNextRequest);
    });
  });
}
