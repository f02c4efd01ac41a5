// k6 for the load-not-reaching-server scenario: a "load test" that is bound by its client, the
// way a closed model with sleep() in the iteration is (the story's script had sleep(1) in every
// iteration): 1 virtual user, one request then sleep(1), so about 1 request/s reaches the server
// whatever the server could do. The duration is passed by the lab (bounded).
import http from 'k6/http';
import { sleep } from 'k6';

export const options = { vus: 1, duration: __ENV.DURATION || '30s' };

export default function () {
  http.get(`http://127.0.0.1:${__ENV.PORT}/`);
  sleep(1);
}
