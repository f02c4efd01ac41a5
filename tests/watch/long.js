// A steady load the pool app serves, for 60 s at most: the SIGINT test interrupts it.
import http from 'k6/http';
import { sleep } from 'k6';

export const options = { vus: 4, duration: '60s' };

export default function () {
  http.get(`http://127.0.0.1:${__ENV.PORT}/`);
  sleep(0.25);
}
