// Hostile HTTP clients, run as their own process so that the gateway's
// process (the test's) holds only the server side of each connection.
// argv: port headersOnly bodyOnly nonReaders
// headersOnly: send half a request head and nothing more
// bodyOnly:    send a whole head announcing 1000 bytes of body, then 10 bytes
// nonReaders:  pipeline a thousand requests and never read an answer
// Every socket allows half-open and never reads: a server that only ends its
// side keeps its descriptor. Prints READY once every request is written.
const net = require('node:net');
const [port, headersOnly, bodyOnly, nonReaders] = process.argv.slice(2).map(Number);
const sockets = [];
let pending = headersOnly + bodyOnly + nonReaders;
const done = () => {
  if (--pending === 0) process.stdout.write('READY\n');
};
function open(payload) {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
    socket.pause();
    socket.write(payload, () => done());
  });
  socket.on('error', () => undefined);
  sockets.push(socket);
}
for (let i = 0; i < headersOnly; i++) open('GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ');
for (let i = 0; i < bodyOnly; i++) {
  open('POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"query":');
}
// Each answer is about four times its request ('<' is escaped as '&lt;'): 2 MB in, 8 MB out per socket.
const pipelined = `GET /demo/return?x=${'%3C'.repeat(2000)} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`.repeat(1000);
for (let i = 0; i < nonReaders; i++) {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
    socket.pause();
    // Written until the kernel stops taking it (the server stops reading once its answers back up).
    socket.write(pipelined);
    setTimeout(done, 300);
  });
  socket.on('error', () => undefined);
  sockets.push(socket);
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
