import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, type Logger } from '../logging/logger';
import { CONTENT_TYPE, serialize } from '../metrics/prometheus';
import type { Registry } from '../metrics/registry';
import { markOwnServer } from '../tracing/ignore';

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry | undefined;
  readonly logger: Logger;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }).end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HealthServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/metrics' && options.registry) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }));
    }
    return send(res, 200, CONTENT_TYPE, serialize(await options.registry.collect()));
  }
  send(res, 404, 'application/json', JSON.stringify({ error: 'not found', path }));
}

/**
 * Our own server, beside the app's: never traced, never counted in the app's metrics,
 * never holding the process open. A port that is taken is one error line; the app runs on.
 */
export function startHealthServer(options: HealthServerOptions): Server {
  const server = createServer((req, res) => {
    handle(req, res, options).catch((err) => {
      options.logger.debug(`Health server request failed: ${describeError(err)}`);
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: 'internal error' }));
      else res.destroy();
    });
  });
  markOwnServer(server);
  server.on('error', (err) => {
    options.logger.error(
      `Health server cannot listen on ${options.host}:${options.port}: ${describeError(err)}; /metrics and the health endpoints are off, the app runs on`,
    );
  });
  server.listen(options.port, options.host, () => {
    const { port } = server.address() as AddressInfo;
    options.logger.info('Health server listening', { host: options.host, port, metrics: `/metrics` });
  });
  server.unref();
  return server;
}
