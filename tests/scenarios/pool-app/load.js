// k6 load for the pool-queue-limit scenario: 20 virtual users, each a request every ~100 ms,
// against the pool app. The duration is passed by the lab (bounded).
import http from 'k6/http';
import { sleep } from 'k6';

export const options = { vus: 20, duration: __ENV.DURATION || '30s' };

export default function () {
  http.get(`http://127.0.0.1:${__ENV.PORT}/`);
  sleep(0.1);
}
