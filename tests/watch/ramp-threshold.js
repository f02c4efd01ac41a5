// As ramp.js, shorter, with a threshold the overload fails (requests refused by the pool come
// back as 503): k6 then exits 99, which `doctor watch --fail-on never` passes through.
import http from 'k6/http';
import { sleep } from 'k6';

export const options = {
  scenarios: {
    ramp: {
      executor: 'ramping-vus',
      startVUs: 2,
      stages: [
        { duration: '3s', target: 2 },
        { duration: '0s', target: 30 },
        { duration: '5s', target: 30 },
        { duration: '0s', target: 2 },
        { duration: '2s', target: 2 },
      ],
      gracefulRampDown: '1s',
    },
  },
  thresholds: { http_req_failed: ['rate<0.01'] },
};

export default function () {
  http.get(`http://127.0.0.1:${__ENV.PORT}/`);
  sleep(0.25);
}
