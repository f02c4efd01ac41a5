// Scenario lab, pool-queue-limit: a small HTTP API in front of MariaDB through the real mysql2
// pool, sized small on purpose (connectionLimit 4, queueLimit 8). Each request holds a connection
// for a 200 ms query, so the pool serves at most 4 / 0.2 = 20 requests/s; past 8 waiting requests
// mysql2 refuses at once with "Queue limit reached." (lib/base/pool.js), which is logged the way
// an Express or NestJS app logs an unhandled error. Ends by itself after MAX_LIFE_S seconds.
//
// On the host (pool-queue-limit) it talks to 127.0.0.1 as root; in a container
// (diary-in-containers, the diary's backend_prod) DB_HOST names the database's container on
// their Docker network, DB_USER/DB_PASSWORD an ordinary account, and LISTEN_HOST 0.0.0.0 lets the
// published port reach it. QUERY replaces the 200 ms sleep (tests/hosts_live.rs: an UPDATE of a
// row another session holds locked, so each request waits for the lock instead).
'use strict';
const http = require('http');
const mysql = require('mysql2');

const port = Number(process.env.PORT);
const pool = mysql.createPool({
  host: process.env.DB_HOST || '127.0.0.1',
  port: Number(process.env.DB_PORT),
  user: process.env.DB_USER || 'root',
  password: process.env.DB_PASSWORD || undefined,
  connectionLimit: 4,
  queueLimit: 8,
  waitForConnections: true,
});

http
  .createServer((req, res) => {
    pool.query(process.env.QUERY || 'SELECT SLEEP(0.2) AS slept', (err) => {
      if (err) {
        console.error(`${new Date().toISOString()} ERROR [ExceptionsHandler] ${err.message}`);
        console.error(`Error: ${err.message}\n    at Pool.getConnection`);
        res.writeHead(503);
        res.end('busy\n');
        return;
      }
      res.writeHead(200);
      res.end('ok\n');
    });
  })
  .listen(port, process.env.LISTEN_HOST || '127.0.0.1', () => console.log(`listening on ${port}`));

setTimeout(() => process.exit(0), Number(process.env.MAX_LIFE_S || 90) * 1000);
