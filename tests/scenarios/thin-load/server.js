// Scenario lab, load-not-reaching-server: a plain HTTP server that answers at once and logs the
// arrival time of every request (ms since the epoch, one per line), so the test can count what
// really arrived in doctor's window. No dependencies. Ends by itself after MAX_LIFE_S seconds.
'use strict';
const http = require('http');

const port = Number(process.env.PORT);
http
  .createServer((req, res) => {
    console.log(`${Date.now()} ${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok\n');
  })
  .listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));

setTimeout(() => process.exit(0), Number(process.env.MAX_LIFE_S || 90) * 1000);
