// Clients that keep uploading 100 GB bodies, in their own process so that the
// gateway's process (the test's) does only the server's share.
// argv: port path clients seconds
// Prints DONE {"uploads":n,"bytesAccepted":n} when the time is up.
const net = require('node:net');
const [port, pathname, clients, seconds] = process.argv.slice(2);
const until = Date.now() + Number(seconds) * 1000;
const chunk = Buffer.alloc(1024 * 1024, 0x20);
let uploads = 0;
let bytesAccepted = 0;
function upload() {
  return new Promise((resolve) => {
    const socket = net.connect({ port: Number(port), host: '127.0.0.1' });
    let headBytes = 0;
    const done = () => {
      bytesAccepted += Math.max(0, socket.bytesWritten - headBytes - socket.writableLength);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, until - Date.now()));
    socket.on('connect', () => {
      const head = `POST ${pathname} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 107374182400\r\n\r\n`;
      headBytes = Buffer.byteLength(head);
      socket.write(head);
      const pump = () => {
        while (socket.writable && socket.write(chunk));
      };
      socket.on('drain', pump);
      pump();
    });
    const closed = () => {
      clearTimeout(timer);
      done();
    };
    socket.on('close', closed);
    socket.on('error', () => undefined);
  });
}
async function attacker() {
  while (Date.now() < until) {
    await upload();
    uploads++;
  }
}
Promise.all(Array.from({ length: Number(clients) }, attacker)).then(() => {
  process.stdout.write(`DONE ${JSON.stringify({ uploads, bytesAccepted })}\n`);
  process.exit(0);
});
