/**
 * (a) The floor: a plain node:http server answering every request with a
 * fixed JSON body. It reads the request body like every other server here.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { failed, serve } from './ipc';

const BODY = JSON.stringify({ data: { noop: true } });

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.statusCode = 200;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(BODY);
  });
});

const ipc = serve({}, () => new Promise<void>((resolve) => server.close(() => resolve())));
server.on('error', failed);
server.listen(0, '127.0.0.1', () => {
  ipc.ready({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
});
