#!/usr/bin/env bash
# Records the outputs `doctor import`'s parsers are tested on, written by the tools themselves on
# this machine: netstat -s, nstat in its forms, sysctl -a, ss -lnt / -lntp / -s / -tan, ip addr / ip -o addr / hostname -I, free (KiB, -m,
# -h), uptime, /proc/loadavg, vmstat, iostat -x (one report and two), docker stats --no-stream, and a private MariaDB's SHOW GLOBAL STATUS /
# VARIABLES / PROCESSLIST in the mysql client's table, tab and vertical forms and mysqladmin's.
# The server is started here (throwaway datadir, port 33398, killed at the end).
#
#   bash tests/import/record.sh
set -euo pipefail
cd "$(dirname "$0")"
out=samples
mkdir -p "$out"
export PATH="/usr/sbin:$PATH"

netstat -s > "$out/netstat-s.txt"
nstat -az > "$out/nstat-az.txt"
nstat -azj > "$out/nstat-azj.txt"
sysctl -a 2>/dev/null > "$out/sysctl-a.txt"

# A listener with backlog 1 that never accepts, two connections queued on it (port 33396), for
# ss -lnt's Recv-Q/Send-Q; its process under -p.
python3 - <<'PY' &
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 33396)); l.listen(1)
clients = []
for _ in range(2):
    c = socket.socket(); c.settimeout(1)
    try: c.connect(("127.0.0.1", 33396))
    except OSError: pass
    clients.append(c)
time.sleep(4)
PY
listener=$!
sleep 1.5
ss -lnt > "$out/ss-lnt.txt"
ss -lntp > "$out/ss-lntp.txt"
ss -s > "$out/ss-s.txt"
wait $listener

# A server on port 33397 that accepts, three clients connected to it: ss -tan's connections
# (ESTAB both ways) beside its listeners.
python3 - <<'PY' &
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 33397)); l.listen(8)
clients = []
for _ in range(3):
    c = socket.socket(); c.connect(("127.0.0.1", 33397)); clients.append(c)
    clients.append(l.accept()[0])
time.sleep(4)
PY
server=$!
sleep 1.5
ss -tan > "$out/ss-tan.txt"
wait $server

ip addr > "$out/ip-addr.txt"
ip -o addr > "$out/ip-o-addr.txt"
hostname -I > "$out/hostname-I.txt"
free > "$out/free.txt"
free -m > "$out/free-m.txt"
free -h > "$out/free-h.txt"
uptime > "$out/uptime.txt"
cat /proc/loadavg > "$out/loadavg.txt"
vmstat 1 3 > "$out/vmstat-1-3.txt"
iostat -x > "$out/iostat-x.txt"
iostat -x 1 2 > "$out/iostat-x-1-2.txt"
# One container of the lab's image (docker import of busybox-static, see tests/scenarios/), so
# docker stats has a row.
if docker image inspect doctor-test-busybox >/dev/null 2>&1; then
  docker run -d --rm --name doctor-import-rec doctor-test-busybox sleep 20 >/dev/null
  sleep 2
  docker stats --no-stream > "$out/docker-stats-no-stream.txt"
  docker rm -f doctor-import-rec >/dev/null
fi

dir=$(mktemp -d /tmp/doctor-import-XXXXXX)
trap 'kill $(cat "$dir/pid" 2>/dev/null) 2>/dev/null || true; sleep 1; rm -rf "$dir"' EXIT
mariadb-install-db --no-defaults --auth-root-authentication-method=normal --datadir="$dir/data" --user=root >/dev/null
mariadbd --no-defaults --user=root --datadir="$dir/data" --socket="$dir/sock" --port=33398 \
  --bind-address=127.0.0.1 --pid-file="$dir/pid" --log-error="$dir/err" --skip-log-bin \
  --innodb-log-file-size=8M --skip-name-resolve &
for _ in $(seq 100); do [ -S "$dir/sock" ] && break; sleep 0.2; done
sql() { mariadb --no-defaults -uroot -S "$dir/sock" "$@"; }
sql -e "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v INT); INSERT INTO shop.t VALUES (1,1),(2,2); SELECT * FROM shop.t WHERE v = 2" >/dev/null
# A session that sleeps, so the processlist has two rows.
sql -e "SELECT SLEEP(20)" >/dev/null & sleeper=$!
sleep 0.5
sql -t -e "SHOW GLOBAL STATUS" > "$out/mariadb-status-table.txt"
sql -B -e "SHOW GLOBAL STATUS" > "$out/mariadb-status-tab.txt"
sql -B -N -e "SHOW GLOBAL STATUS LIKE 'Threads%'" > "$out/mariadb-status-tab-n.txt"
sql -E -e "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool%'" > "$out/mariadb-status-vertical.txt"
sql -t -e "SHOW GLOBAL VARIABLES LIKE 'max_connections'" > "$out/mariadb-variables-like-table.txt"
sql -B -e "SHOW GLOBAL VARIABLES" > "$out/mariadb-variables-tab.txt"
sql -t -e "SHOW FULL PROCESSLIST" > "$out/mariadb-processlist-table.txt"
sql -E -e "SHOW FULL PROCESSLIST" > "$out/mariadb-processlist-vertical.txt"
sql -E -e "SHOW ENGINE INNODB STATUS" > "$out/mariadb-innodb-status-vertical.txt"
mariadb-admin --no-defaults -uroot -S "$dir/sock" extended-status > "$out/mariadb-admin-extended-status.txt"
mariadb-admin --no-defaults -uroot -S "$dir/sock" -r -i 1 -c 2 extended-status > "$out/mariadb-admin-extended-status-r-i1-c2.txt"
kill $sleeper 2>/dev/null || true
{ mariadbd --version; netstat --version | head -1; nstat -V; ss -V; ip -V; free -V; vmstat -V; iostat -V | head -1; docker --version; uname -r; } > "$out/VERSIONS.txt" 2>&1
echo "recorded $(ls "$out" | wc -l) files in tests/import/$out"
