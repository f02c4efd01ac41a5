// doctor watch's live test (tests/watch_live.rs): a load the pool app serves (2 VUs, about 4
// requests/s against its 20/s), then more than it can (30 VUs: mysql2 refuses with "Queue limit
// reached."), then a load it serves again. Bounded: 20 s in all.
import http from 'k6/http';
import { sleep } from 'k6';

export const options = {
  scenarios: {
    ramp: {
      executor: 'ramping-vus',
      startVUs: 2,
      stages: [
        { duration: '6s', target: 2 },
        { duration: '0s', target: 30 },
        { duration: '8s', target: 30 },
        { duration: '0s', target: 2 },
        { duration: '6s', target: 2 },
      ],
      gracefulRampDown: '1s',
    },
  },
};

export default function () {
  http.get(`http://127.0.0.1:${__ENV.PORT}/`);
  sleep(0.25);
}
