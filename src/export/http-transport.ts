import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';

/** What convertLegacyHttpOptions returns: the options completed from OTEL_EXPORTER_OTLP_* and the defaults. */
export type OtlpNodeHttpConfiguration = Parameters<typeof import('@opentelemetry/otlp-exporter-base/node-http').createOtlpHttpExportDelegate>[0];

/** As the stock transport: a larger answer is not read, and the export counts as failed. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH']);

const gzipAsync = promisify(gzip);

/**
 * OTLP over HTTP(S), as otlp-exporter-base's transport sends it (same status and error
 * mapping, headers, agent with the OTEL_EXPORTER_OTLP_* certificates), with one difference:
 * its sockets never hold the event loop. A script whose work is done must not wait for an
 * export to a collector that does not answer; the last flush (beforeExit) keeps the process
 * up for its own budget instead. One attempt per call: RetryingTransport retries.
 */
export class HttpTransport implements IExporterTransport {
  private agent: Promise<http.Agent> | undefined;

  constructor(private readonly configuration: OtlpNodeHttpConfiguration) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const url = new URL(this.configuration.url);
    const agent = await (this.agent ??= Promise.resolve(this.configuration.agentFactory(url.protocol) as http.Agent));
    const headers: Record<string, string> = { ...(await this.configuration.headers()) };
    headers['User-Agent'] = this.configuration.userAgent ? `${this.configuration.userAgent} ${userAgent()}` : userAgent();
    let body: Uint8Array = data;
    if (this.configuration.compression === 'gzip') {
      headers['Content-Encoding'] = 'gzip';
      body = await gzipAsync(data);
    }
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<ExportResponse>((resolve) => {
      const req = request(url, { method: 'POST', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            resolve({ status: 'failure', error: new Error(`OTLP export response body exceeded size limit of ${MAX_RESPONSE_BYTES} bytes`) });
            res.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve(responseOf(res, Buffer.concat(chunks))));
        res.on('error', (error) => resolve(responseOf(res, Buffer.concat(chunks), error)));
      });
      // Reused keep-alive sockets are ref'd again by the agent: unref each one the request gets.
      req.on('socket', (socket) => socket.unref());
      req.setTimeout(timeoutMillis, () => {
        req.destroy();
        resolve({ status: 'retryable', error: new Error('Request timed out') });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        resolve(RETRYABLE_NETWORK.has(error.code ?? '') ? { status: 'retryable', error } : { status: 'failure', error });
      });
      req.end(body);
    });
  }

  shutdown(): void {
    // sockets are the agent's; idle ones are unref'd and closed by it
  }
}

function responseOf(res: http.IncomingMessage, body: Buffer, error?: Error): ExportResponse {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status <= 299) return error ? { status: 'success' } : { status: 'success', data: body };
  if (RETRYABLE_STATUS.has(status)) return { status: 'retryable', retryInMillis: retryAfterMs(res.headers['retry-after']), ...(error ? { error } : {}) };
  return { status: 'failure', error: error ?? new OTLPExporterError(res.statusMessage, status, body.toString()) };
}

/** Retry-After in seconds or as a date, as the stock transport reads it. */
export function retryAfterMs(value: string | undefined): number | undefined {
  if (value == null) return undefined;
  const seconds = Number.parseInt(value, 10);
  if (Number.isInteger(seconds)) return seconds > 0 ? seconds * 1000 : -1;
  const delay = new Date(value).getTime() - Date.now();
  return delay >= 0 ? delay : 0;
}

let agentString: string | undefined;

/** The stock exporters' User-Agent, with the version of the otlp-exporter-base installed. */
function userAgent(): string {
  if (agentString) return agentString;
  agentString = 'OTel-OTLP-Exporter-JavaScript';
  try {
    // Its package.json is not exported, and the main file's depth differs by release line
    // (build/src/ on 2.x, dist/ on 3.x): the first package.json above it that names the package.
    const name = '@opentelemetry/otlp-exporter-base';
    for (let dir = dirname(require.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
      const file = join(dir, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name !== name) continue;
      if (pkg.version) agentString = `OTel-OTLP-Exporter-JavaScript/${pkg.version}`;
      break;
    }
  } catch {
    // the name alone
  }
  return agentString;
}
