#!/usr/bin/env bash
# What `doctor watch --every 1s` costs for 60 s with a MySQL server (a private MariaDB with idle
# connections) and 20 running containers, beside what `vmstat 1`, `iostat -x 1`,
# `mysqladmin extended-status -i1` and `docker stats` cost over the same minute; what one
# sample's status query costs the server (narrow vs full SHOW GLOBAL STATUS); and how long
# `doctor analyze` takes on a 10-minute recording. Goals (issue 9): <= 10 ms of doctor's CPU per
# sample, analyze <= 50 ms. Needs root (a private mariadbd runs as root) and, for the
# containers, a Docker engine (bash tests/run.sh starts one); without one the containers are
# left out and it says so.
#
#   bash benches/watch.sh
#   WATCH_BENCH_CONNECTIONS=200 WATCH_BENCH_CONTAINERS=20 bash benches/watch.sh
#   WATCH_BENCH_KEEP=/tmp bash benches/watch.sh   # also keep the recordings there
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/sbin:$PATH"
for t in mariadbd mariadb-install-db mariadb mysqladmin vmstat iostat hyperfine python3; do
  command -v $t >/dev/null || { echo "needs $t (apt-get install mariadb-server mariadb-client procps sysstat hyperfine python3)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
connections=${WATCH_BENCH_CONNECTIONS:-50}
containers=${WATCH_BENCH_CONTAINERS:-20}
port=33182 # tests/support/mariadb.rs: 33100-33199 are the MySQL tests'; 33180-33181 tests/watch_live.rs
cargo build -j2 --release --locked --quiet
bin=$PWD/target/release/doctor

dir=$(mktemp -d /tmp/doctor-watch-bench.XXXXXX)
names=()
cleanup() {
  [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
  pkill -P $$ mariadb 2>/dev/null || true
  for n in "${names[@]}"; do docker rm -f "$n" >/dev/null 2>&1 || true; done
  sleep 1
  rm -rf "$dir"
}
trap cleanup EXIT

# --- a private MariaDB with idle connections -----------------------------------------------
mariadb-install-db --no-defaults --auth-root-authentication-method=normal --user=root \
  --datadir="$dir/data" --skip-test-db --innodb-log-file-size=8M --tmpdir="$dir" >/dev/null 2>&1
mariadbd --no-defaults --user=root --datadir="$dir/data" --socket="$dir/sock" --port=$port \
  --bind-address=127.0.0.1 --pid-file="$dir/pid" --log-error="$dir/err.log" --tmpdir="$dir" \
  --max-connections=$((connections + 50)) &
for _ in $(seq 100); do [ -S "$dir/sock" ] && break; sleep 0.2; done
sql() { mariadb --no-defaults -uroot -S "$dir/sock" -N -B -e "$1"; }
sql "CREATE USER doctor@'%' IDENTIFIED BY 'doctor'; GRANT PROCESS ON *.* TO doctor@'%'; GRANT SELECT ON performance_schema.* TO doctor@'%';"
# Idle sessions, each bounded: SLEEP ends them after 150 s whatever happens to this script.
for _ in $(seq "$connections"); do
  mariadb --no-defaults -uroot -S "$dir/sock" -e "SELECT SLEEP(150)" >/dev/null 2>&1 &
done
url="mysql://doctor:doctor@127.0.0.1:$port"
mysqld_pid=$(cat "$dir/pid")

# --- containers ------------------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
  if ! docker image inspect doctor-test-busybox:latest >/dev/null 2>&1; then
    root="$dir/rootfs"; mkdir -p "$root/bin"
    cp "$(command -v busybox)" "$root/bin/busybox"
    for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
    tar -C "$root" -c . | docker import - doctor-test-busybox:latest >/dev/null
  fi
  for i in $(seq "$containers"); do
    n="doctor-watch-bench-$i"; names+=("$n")
    docker run -d --rm --name "$n" doctor-test-busybox:latest sleep 300 >/dev/null
  done
  docker_flag=()
  echo "setup: MariaDB with $connections idle connections, $containers containers"
else
  containers=0
  docker_flag=(--no-docker)
  echo "setup: MariaDB with $connections idle connections; no Docker engine here: containers left out"
fi
echo "processes on this machine: $(ls -d /proc/[0-9]* | wc -l)"

# GNU time's "user sys [rss]" (its last line: a command that exits non-zero, as `timeout` does,
# adds a line before it) → CPU ms; the resolution is 10 ms.
cpu_ms() { tail -1 "$1" | awk '{printf "%.0f", ($1 + $2) * 1000}'; }
rss_kib() { tail -1 "$1" | awk '{print $3}'; }
server_ticks() { awk '{print $14 + $15}' "/proc/$mysqld_pid/stat"; }
hz=$(getconf CLK_TCK)

# --- the start and end readings alone (one `snapshot` of 1 s), to tell them from the samples ---
/usr/bin/time -f "%U %S" -o "$dir/snap.time" "$bin" snapshot --interval 1s --mysql "$url" \
  "${docker_flag[@]}" -o "$dir/snap.json" 2>/dev/null
snap_ms=$(cpu_ms "$dir/snap.time")

# --- the minute: doctor watch and the standard tools side by side ------------------------------
t0=$(server_ticks)
/usr/bin/time -f "%U %S %M" -o "$dir/vmstat.time" vmstat 1 60 >/dev/null &
/usr/bin/time -f "%U %S %M" -o "$dir/iostat.time" iostat -x 1 60 >/dev/null &
/usr/bin/time -f "%U %S %M" -o "$dir/mysqladmin.time" \
  mysqladmin --no-defaults -uroot -S "$dir/sock" -i1 -c60 extended-status >/dev/null &
if [ "$containers" -gt 0 ]; then
  /usr/bin/time -f "%U %S %M" -o "$dir/dockerstats.time" timeout 60 docker stats >/dev/null 2>&1 &
fi
/usr/bin/time -f "%U %S %M" -o "$dir/watch.time" "$bin" watch --every 1s --duration 60s \
  --mysql "$url" "${docker_flag[@]}" --format json --fail-on never --out "$dir/rec.json" \
  >"$dir/report.json" 2>/dev/null
wait_tools() { for f in vmstat iostat mysqladmin; do while [ ! -s "$dir/$f.time" ]; do sleep 0.5; done; done; }
wait_tools
[ "$containers" -gt 0 ] && while [ ! -s "$dir/dockerstats.time" ]; do sleep 0.5; done
t1=$(server_ticks)

samples=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['series']['bound']['taken'])" "$dir/rec.json")
columns=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['series']['columns']))" "$dir/rec.json")
watch_ms=$(cpu_ms "$dir/watch.time")
watch_rss=$(rss_kib "$dir/watch.time")
echo
echo "doctor watch --every 1s --duration 60s: $samples samples, $columns columns"
echo "  CPU ${watch_ms} ms in all (peak RSS ${watch_rss} KiB); the start and end readings alone (snapshot -i 1s): ${snap_ms} ms"
python3 - "$watch_ms" "$snap_ms" "$samples" <<'PY'
import sys
w, s, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
per = max(w - s, 0) / max(n, 1)
print(f"  per sample: {per:.2f} ms ({'within' if per <= 10 else 'ABOVE'} the 10 ms budget), {per / 10:.2f} % of one core at 1 s")
PY
echo "the same minute, for comparison (CPU ms, peak RSS KiB):"
for f in vmstat iostat mysqladmin dockerstats; do
  [ -s "$dir/$f.time" ] || continue
  printf "  %-28s %6s ms  %6s KiB\n" "$f" "$(cpu_ms "$dir/$f.time")" "$(rss_kib "$dir/$f.time")"
done
echo "  (docker stats: the CLI only; the engine collects the stats on its side too)"
echo "  mariadbd over the minute (doctor's samples, mysqladmin's and the idle sessions): $(( (t1 - t0) * 1000 / hz )) ms"

# --- what one sample's status query costs the server -------------------------------------------
narrow="SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected','Threads_running','Questions','Innodb_buffer_pool_reads','Innodb_buffer_pool_read_requests','Connections','Threads_created')"
innodb="SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_reads','Innodb_buffer_pool_read_requests')"
full="SHOW GLOBAL STATUS"
echo "server CPU per status query, 500 in one session, $connections idle connections:"
for q in narrow innodb full; do
  a=$(server_ticks)
  python3 -c "import sys; print((sys.argv[1] + ';\\n') * 500)" "${!q}" |
    mariadb --no-defaults -uroot -S "$dir/sock" -N -B >/dev/null
  b=$(server_ticks)
  python3 -c "import sys; print(f'  {sys.argv[1]:8s} {(int(sys.argv[3]) - int(sys.argv[2])) * 1000 / int(sys.argv[4]) / 500:.3f} ms')" "$q" "$a" "$b" "$hz"
done

# --- analyze of a 10-minute recording ----------------------------------------------------------
# The minute just recorded, its series repeated to 600 samples at 1 s.
python3 - "$dir/rec.json" "$dir/ten.json" <<'PY'
import json, sys
snap = json.load(open(sys.argv[1]))
s = snap["series"]
n = len(s["t_ms"])
s["t_ms"] = [(i + 1) * 1000 for i in range(600)]
s["columns"] = {k: [v[i % n] for i in range(600)] for k, v in s["columns"].items()}
s["bound"]["taken"] = 600
json.dump(snap, open(sys.argv[2], "w"))
PY
[ -n "${WATCH_BENCH_KEEP:-}" ] && cp "$dir/rec.json" "$dir/ten.json" "$WATCH_BENCH_KEEP"/
hyperfine -N --warmup 5 --runs 40 --export-json "$dir/analyze.json" \
  "$bin analyze $dir/ten.json --format json --fail-on never" >/dev/null 2>&1
python3 - "$dir/analyze.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
t = sorted(r["times"])
med = t[len(t) // 2] * 1000
print(f"doctor analyze of a 10-minute recording (600 samples): {med:.1f} ms median, "
      f"{(r['user'] + r['system']) * 1000:.1f} ms CPU ({'within' if med <= 50 else 'ABOVE'} the 50 ms budget)")
PY
