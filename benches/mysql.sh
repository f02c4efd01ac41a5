#!/usr/bin/env bash
# What one doctor snapshot costs a MySQL server with ~2000 connections and ~5000 tables, beside
# MySQLTuner on the same server: server CPU and statement time, client CPU, wall, peak RSS, as
# ratios. Goals (issue 3): doctor's queries ≤ 20 ms of server time per snapshot, doctor's own CPU
# for MySQL ≤ 30 ms. Takes a few minutes; needs root (a private mariadbd runs as root).
#
#   bash benches/mysql.sh                       # 2000 connections, 5000 tables, 10 runs
#   MYSQL_BENCH_CONNECTIONS=500 MYSQL_BENCH_TABLES=1000 MYSQL_BENCH_RUNS=5 bash benches/mysql.sh
#
# The measuring is in benches/mysql.rs (it reuses the tests' private-MariaDB harness).
set -euo pipefail
cd "$(dirname "$0")/.."
for t in mariadbd mariadb-install-db mariadb mysqltuner; do
  command -v $t >/dev/null || [ -x /usr/sbin/$t ] || {
    echo "needs $t: apt-get install mariadb-server mysqltuner (bash tests/run.sh installs them)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
# One file descriptor per connection in each process, plus the server's table files: raise the
# soft limit to the hard one and require enough.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 8192 ]; then
  echo "needs at least 8192 open files (ulimit -Hn is $(ulimit -Hn))" >&2; exit 1
fi
export PATH="/usr/sbin:$PATH"
exec cargo bench -j2 --bench mysql
