import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describeError, type Logger } from '../logging/logger';
import { markOwnServer } from '../http/own-traffic';
import { guardConnections, healthServerOptions } from './connections';
import { handleHealthRequest, type HealthDeps } from './routes';

/** Our paths answered on any server; a failure is a 500, never an exception in the app. */
export function serveHealth(req: IncomingMessage, res: ServerResponse, deps: HealthDeps, logger: Logger): void {
  handleHealthRequest(req, res, deps).catch((err) => {
    logger.debug(`Health request ${req.url ?? ''} failed: ${describeError(err)}`);
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"internal error"}');
    else res.destroy();
  });
}

/**
 * Our own server, beside the app's: never traced, never counted in the app's metrics,
 * never holding the process open, never held by slow or idle clients (see
 * guardConnections). A port that is taken is one error line; the app runs on.
 */
export interface ListenOptions {
  /**
   * A cluster worker's own port, not shared through its primary: a primary that shares
   * it (PM2's) would spread scrapes over the workers, each answering for itself.
   */
  readonly exclusive?: boolean;
  /** Appended to the line of a port that is taken (EADDRINUSE). */
  readonly takenHint?: string;
}

export function startHealthServer(host: string, port: number, deps: HealthDeps, logger: Logger, options: ListenOptions = {}): Server {
  const server = createServer(healthServerOptions(), (req, res) => serveHealth(req, res, deps, logger));
  guardConnections(server);
  markOwnServer(server);
  // server.unref() covers the listening socket only. A client's open connection (a keep-alive
  // scraper, the dashboard polling every second) held the process: a cluster primary whose
  // workers had all ended never exited while something scraped it.
  server.on('connection', (socket: Socket) => socket.unref());
  server.on('error', (err) => {
    const hint = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? (options.takenHint ?? '') : '';
    logger.error(`Health server cannot listen on ${host}:${port}: ${describeError(err)}; health and metrics endpoints are off, the app runs on${hint}`);
  });
  server.listen({ port, host, exclusive: options.exclusive ?? false }, () => {
    const address = server.address() as AddressInfo;
    logger.info('Health server listening', { host, port: address.port });
  });
  server.unref();
  return server;
}
