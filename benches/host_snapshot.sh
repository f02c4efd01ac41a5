#!/usr/bin/env bash
# What one host snapshot costs, beside the hand-run command set a person would type for the same
# facts (`vmstat 1 2; iostat -x 1 2; netstat -s; ss -lnt; sysctl -a`). The host collectors only
# (`--no-docker --no-mysql`, no `--log`): the services have their own benchmarks.
#
#   bash benches/host_snapshot.sh [runs=5] [interval_s=5]
#
# Per tool, the median over the runs of: CPU (user+sys of the process and its children, from
# wait4's rusage, microsecond resolution), wall, and peak RSS from GNU time's %M in a separate run
# (a child forked from Python inherits Python's high-water mark, so wait4's figure is wrong there).
# doctor's collectors-only CPU and its own VmHWM come from the snapshot's `overhead`.
# Goals (issue 2): collectors ≤ 20 ms CPU, ≤ 15 MB peak RSS, wall = interval + ≤ 100 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
for t in vmstat iostat netstat ss sysctl; do
  command -v $t >/dev/null || { echo "needs $t (bash tests/run.sh installs it)" >&2; exit 1; }
done
cargo build -j2 --release --quiet --bin doctor
exec python3 - "${1:-5}" "${2:-5}" <<'PY'
import json, os, statistics, subprocess, sys, tempfile, time

runs, interval = int(sys.argv[1]), float(sys.argv[2])
doctor = "target/release/doctor"

def measure(argv):
    t = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t
    assert os.waitstatus_to_exitcode(status) == 0, argv
    with tempfile.NamedTemporaryFile() as f:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        rss = int(open(f.name).read().split()[-1]) / 1024
    return (ru.ru_utime + ru.ru_stime) * 1000, rss, wall

d, h, collect, hwm = [], [], [], []
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "s.json")
    for _ in range(runs):
        d.append(measure([doctor, "snapshot", "--interval", f"{interval}s", "--quiet", "--no-docker", "--no-mysql", "--out", out]))
        overhead = json.load(open(out))["overhead"]
        collect.append(overhead["cpu_ms"])
        hwm.append(overhead["max_rss_bytes"] / 2**20)
        h.append(measure(["sh", "-c", "vmstat 1 2; iostat -x 1 2; netstat -s; ss -lnt; sysctl -a"]))

med = lambda rows, i: statistics.median(r[i] for r in rows)
load = open("/proc/loadavg").read().split()[:3]
print(f"{runs} runs, interval {interval:g} s, kernel {os.uname().release}, {os.cpu_count()} CPUs, load {' '.join(load)}\n")
print(f"{'':40} {'CPU ms':>9} {'peak RSS MB':>12} {'wall s':>9}")
print(f"{'doctor snapshot (whole process)':40} {med(d,0):9.1f} {med(d,1):12.1f} {med(d,2):9.3f}")
print(f"{'doctor collectors only (overhead)':40} {statistics.median(collect):9.1f} {statistics.median(hwm):12.1f}")
print(f"{'vmstat; iostat -x; netstat -s; ss; sysctl':40} {med(h,0):9.1f} {med(h,1):12.1f} {med(h,2):9.3f}")
print()
print(f"CPU  doctor / hand-run: {med(d,0) / med(h,0):.2f}")
print(f"RSS  doctor / hand-run: {med(d,1) / med(h,1):.2f}")
print(f"wall beyond the interval: {(med(d,2) - interval) * 1000:.0f} ms (goal ≤ 100)")
print(f"collectors CPU: {statistics.median(collect):.1f} ms (goal ≤ 20); peak RSS {med(d,1):.1f} MB (goal ≤ 15)")
PY
