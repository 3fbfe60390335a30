// The bench's receiver, in a process of its own (started by delivery-throughput.bench.ts with
// fork), so the sender under test does not share its event loop with the receiver: the raw loop
// and the worker then face the same receiver. 127.0.0.1 only. Answers 200 at once; tells the
// parent over IPC when the expected number of requests has arrived.
import { createServer } from 'node:http';

let received = 0;
let target = Infinity;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200).end('ok');
    if (++received === target) process.send({ type: 'reached', received });
  });
});
server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
process.on('message', (message) => {
  if (message.type === 'expect') {
    received = 0;
    target = message.count;
    process.send({ type: 'armed' });
  } else if (message.type === 'stop') {
    server.close(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
