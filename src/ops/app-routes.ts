import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isOwnServer } from '../http/own-traffic';
import { isHealthPath } from './routes';

type Emit = (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;

/**
 * INNATURAL_APP_ROUTES=true: our paths also answer on the app's own servers (the seed
 * curls localhost:5000/metrics). Taken at 'request' emission, so the app's handlers,
 * middleware and router never see these requests.
 */
export function installAppRoutes(serve: (req: IncomingMessage, res: ServerResponse) => void): () => void {
  const undo: Array<() => void> = [];
  for (const proto of [http.Server.prototype, https.Server.prototype] as unknown as Array<{ emit: Emit }>) {
    const original = proto.emit;
    const emit: Emit = function (this: http.Server, event, ...args) {
      if (event === 'request' && !isOwnServer(this)) {
        const req = args[0] as IncomingMessage;
        if (isHealthPath(req.url)) {
          serve(req, args[1] as ServerResponse);
          return true;
        }
      }
      return original.call(this, event, ...args);
    };
    proto.emit = emit;
    undo.push(() => {
      if (proto.emit === emit) proto.emit = original;
    });
  }
  return () => undo.forEach((u) => u());
}
