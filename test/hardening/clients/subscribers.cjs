// graphql-ws subscribers in their own process, so that the gateway's
// process (the test's) does only the server's share of a fan-out.
// argv: wsUrl token connections perConnection paymentId
// Prints READY once every subscription has its first value, then PAID <ms>
// once every one of them has received status PAID (ms since the first PAID).
const WebSocket = require('ws');
const [url, token, connections, perConnection, paymentId] = process.argv.slice(2);
const query = 'subscription($id: ID!) { paymentUpdated(id: $id) { id status version } }';
const total = Number(connections) * Number(perConnection);
let first = 0;
let paid = 0;
let firstPaidAt = 0;
for (let c = 0; c < Number(connections); c++) {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  ws.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.type === 'connection_ack') {
      for (let i = 0; i < Number(perConnection); i++) {
        ws.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query, variables: { id: paymentId } } }));
      }
    } else if (message.type === 'next') {
      const status = message.payload?.data?.paymentUpdated?.status;
      if (status === 'PAID') {
        if (!firstPaidAt) firstPaidAt = Date.now();
        if (++paid === total) process.stdout.write(`PAID ${Date.now() - firstPaidAt}\n`);
      } else if (++first === total) process.stdout.write('READY\n');
    } else if (message.type === 'error') {
      process.stdout.write(`ERROR ${JSON.stringify(message.payload)}\n`);
    }
  });
  ws.on('error', (error) => process.stdout.write(`ERROR ${error.message}\n`));
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
