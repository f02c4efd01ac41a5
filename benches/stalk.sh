#!/usr/bin/env bash
# What `doctor stalk` costs while it only checks: doctor's own CPU over STALK_BENCH_CHECKS checks
# (default 60) at --every 1s with a trigger that never holds, as ms per check and % of one core.
# Goal (issue 9): idle checking <= 0.5 % of one core at --every 1s.
#
# Measured from outside, on the running process: utime + stime of /proc/PID/stat (clock ticks,
# every thread), and the sum of /proc/PID/task/*/schedstat (nanoseconds on a CPU, finer). The
# start-up (rules compiled, the baseline's one-second window) is left out: the count starts 3 s
# after the "checking" line. Two triggers: a rule (tcp-accept-queue-overflow) and an expression.
# The sources are the defaults (Docker and MySQL when there are some); say which in the report.
#
#   bash benches/stalk.sh
#   DOCTOR=target/debug/doctor STALK_BENCH_CHECKS=30 bash benches/stalk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
checks=${STALK_BENCH_CHECKS:-60}
bin=${DOCTOR:-}
if [ -z "$bin" ]; then
  cargo build -j1 --release --locked --quiet
  bin=$PWD/target/release/doctor
fi
dir=$(mktemp -d /tmp/doctor-stalk-bench.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
hz=$(getconf CLK_TCK)

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
nanos() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

echo "doctor stalk idle checking, $checks checks at --every 1s ($bin)"
for when in tcp-accept-queue-overflow 'cpu.busy_pct > 1000.0'; do
  "$bin" stalk --when "$when" --every 1s --dir "$dir/out" 2>"$dir/log" &
  pid=$!
  for _ in $(seq 100); do grep -q checking "$dir/log" && break; sleep 0.1; done
  sleep 3
  t0=$(ticks $pid); n0=$(nanos $pid); w0=$(date +%s.%N)
  sleep "$checks"
  t1=$(ticks $pid); n1=$(nanos $pid); w1=$(date +%s.%N)
  kill -INT "$pid"; wait "$pid" || true; pid=
  awk -v t="$((t1 - t0))" -v n="$((n1 - n0))" -v hz="$hz" -v w0="$w0" -v w1="$w1" -v c="$checks" \
    -v when="$when" 'BEGIN {
      wall = w1 - w0; cpu_s = t / hz; precise_s = n / 1e9
      printf "  --when %-28s %6.3f ms per check  %5.3f %% of one core  (stat: %d ticks = %.2f ms per check)\n",
        when, precise_s * 1000 / c, precise_s / wall * 100, t, cpu_s * 1000 / c
    }'
  if grep -q "held" "$dir/log"; then echo "  (the trigger held: the figures above include a recording)"; fi
done
