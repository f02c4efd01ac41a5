#!/usr/bin/env bash
# What the every-minute run costs: `doctor check --quiet --fail-on never --textfile DIR` (the
# systemd timer's and the cron line's command) run TEXTFILE_BENCH_RUNS times (default 10) with
# the release build, twice: the host alone (--no-mysql --no-docker), then with a private MariaDB
# server started here. Printed: CPU per run (user + system, GNU time), wall, peak RSS, the bytes
# of DIR/doctor.prom, and the MySQL statements per run (the server's `Questions` counter before
# and after, less the two statements that read it).
#
#   bash benches/textfile.sh
#   DOCTOR=target/debug/doctor TEXTFILE_BENCH_RUNS=3 bash benches/textfile.sh
#
# Needs root for the private mariadbd (as tests/support/mariadb.rs starts it), GNU time, and
# mariadb-server, mariadb-client (bash tests/run.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/sbin:$PATH"
runs=${TEXTFILE_BENCH_RUNS:-10}
for t in mariadbd mariadb-install-db mariadb; do
  command -v $t >/dev/null || { echo "needs $t: apt-get install mariadb-server mariadb-client" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
bin=${DOCTOR:-}
if [ -z "$bin" ]; then
  cargo build -j1 --release --locked --quiet
  bin=$PWD/target/release/doctor
fi
work=$(mktemp -d /tmp/doctor-textfile-bench.XXXXXX)
db_pid=
cleanup() {
  [ -n "$db_pid" ] && kill "$db_pid" 2>/dev/null && wait "$db_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# One configuration: RUNS runs of the command, each timed; prints one line.
measure() {
  local label=$1; shift
  mkdir -p "$work/textfile"
  : >"$work/times"
  for _ in $(seq "$runs"); do
    /usr/bin/time -a -o "$work/times" -f '%U %S %e %M' \
      "$bin" check --quiet --fail-on never --textfile "$work/textfile" "$@"
  done
  local bytes mysql
  bytes=$(stat -c %s "$work/textfile/doctor.prom")
  # Whether the MySQL collector read the server (the figures are only worth that).
  mysql=$(awk '/^doctor_collector_status\{collector="mysql",status="[a-z]+"\} 1$/ {
    sub(/.*status="/, ""); sub(/".*/, ""); print }' "$work/textfile/doctor.prom")
  awk -v label="$label" -v bytes="$bytes" -v runs="$runs" -v mysql="$mysql" '
    { cpu += ($1 + $2) * 1000; wall += $3; if ($4 > rss) rss = $4 }
    END { printf "  %-28s %6.1f ms CPU per run  %5.2f s wall  %6.1f MiB peak RSS  %6d bytes written  (mysql collector: %s)\n",
            label, cpu / runs, wall / runs, rss / 1024, bytes, mysql }' "$work/times"
}

echo "doctor check --quiet --fail-on never --textfile DIR, $runs runs each ($bin, 5 s window)"
measure "host only (--no-mysql)" --no-mysql --no-docker

# A private MariaDB, as tests/support/mariadb.rs starts one.
mariadb-install-db --no-defaults --auth-root-authentication-method=normal \
  --datadir="$work/data" --user=root --skip-test-db --innodb-log-file-size=8M \
  --tmpdir="$work" >"$work/install.log" 2>&1
sock=$work/mysqld.sock
mariadbd --no-defaults --user=root --datadir="$work/data" --socket="$sock" --skip-networking \
  --pid-file="$work/mysqld.pid" --log-error="$work/error.log" --tmpdir="$work" \
  --skip-log-bin --innodb-log-file-size=8M --skip-name-resolve 2>>"$work/error.log" &
db_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && mariadb --no-defaults -S "$sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
questions() {
  mariadb --no-defaults -S "$sock" -uroot -N -e "SHOW GLOBAL STATUS LIKE 'Questions'" | awk '{ print $2 }'
}
q0=$(questions)
measure "with MariaDB $(mariadbd --version | awk '{ print $3 }' | cut -d- -f1)" --no-docker --mysql "mysql://root@localhost?socket=$sock"
q1=$(questions)
# Each `questions` call is one statement, counted by the second reading: one to take off.
echo "  MySQL statements per run: $(awk -v a="$q0" -v b="$q1" -v r="$runs" 'BEGIN { printf "%.1f", (b - a - 1) / r }')"
