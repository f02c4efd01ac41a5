#!/usr/bin/env bash
# What the `containers` collector costs for 1, 2 and 20 running containers (issue 4's goal: 20
# containers ≤ 1.5 × one), beside asking the engine for the same stats one container at a time.
#
#   bash benches/containers.sh [runs=5] [interval_s=2]
#
# Per container count, the median over the runs of: the section's `elapsed_ms` (time spent in the
# collector: connecting, listing, inspecting, the stats at both ends, the host-side namespace
# and cgroup reads; the window's sleep excluded), doctor's CPU for the whole snapshot with and
# without `--no-docker` (from the snapshot's `overhead`), and the snapshot's wall time beyond the
# interval (CPU includes the host collectors, which also read the containers' processes, and is
# noisy on a busy machine). Between runs the script waits 1.5 s, so every run starts from an idle engine.
#
# The stats have two sources (the `stats_source` column; docs/snapshot.md):
# - `cgroup`: doctor runs as root beside the engine (this script runs it so) and reads each
#   container's figures from the files the engine itself reads (its cgroup, /proc/stat,
#   /proc/<pid>/net/dev; src/collect/docker/kstats.rs) right after the container's inspect answer.
#   No engine round is waited for: what grows with the number of containers is the inspect request
#   and the host-side reads (these stats, the namespace counters, the throttling counters, the
#   sysctls and listeners read inside each namespace), about 1 ms per container on the project's
#   2-CPU machine, from a fixed ~10 ms (connecting, the version, the list).
# - `engine`: without root, or with an engine that may be remote, the engine's stats API. Engine
#   20.10 collects stats in rounds followed by a 1 s sleep (moby daemon/stats/collector.go); the
#   request that wakes an idle engine is answered at once and every other one at the next round.
#   doctor sends every container's request together, so any number of containers from 2 up costs
#   one round per reading; one at a time (the last line) costs a round each.
set -euo pipefail
cd "$(dirname "$0")/.."
docker info >/dev/null 2>&1 || { echo "needs a running dockerd (bash tests/run.sh starts one)" >&2; exit 1; }
command -v curl >/dev/null || { echo "needs curl" >&2; exit 1; }
image=doctor-test-busybox:latest
if ! docker image inspect "$image" >/dev/null 2>&1; then
  bb=$(command -v busybox) || { echo "needs busybox-static (bash tests/run.sh installs it)" >&2; exit 1; }
  root=$(mktemp -d); mkdir "$root/bin"; cp "$bb" "$root/bin/busybox"
  for a in $("$bb" --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
  tar -C "$root" -c . | docker import - "$image" >/dev/null; rm -rf "$root"
fi
cargo build -j2 --release --quiet --bin doctor
prefix="doctor-bench-$$"
cleanup() { docker ps -aq --filter "name=^$prefix-" | xargs -r docker rm -f >/dev/null; }
trap cleanup EXIT
python3 - "${1:-5}" "${2:-2}" "$prefix" "$image" <<'PY'
import json, os, statistics, subprocess, sys, time

runs, interval, prefix, image = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
doctor = "target/release/doctor"
running = []

def scale(n):
    while len(running) < n:
        name = f"{prefix}-{len(running)}"
        subprocess.run(["docker", "run", "-d", "--name", name, "--network", "none", image, "sleep", "3600"],
                       check=True, stdout=subprocess.DEVNULL)
        running.append(name)

def snap(*extra):
    time.sleep(1.5)  # let the engine's stats loop go idle
    out = subprocess.run([doctor, "snapshot", "--interval", f"{interval}s", "--quiet", *extra],
                         check=True, capture_output=True).stdout
    return json.loads(out)

rows = {}
for n in (1, 2, 20):
    scale(n)
    elapsed, cpu, cpu_off, late, sources = [], [], [], [], set()
    for _ in range(runs):
        s = snap()
        c = s["containers"]
        assert c["status"] == "ok", c
        mine = [x for x in c["containers"] if x["name"].startswith(prefix)]
        assert len(mine) == n, (n, len(mine))
        sources.update(x.get("stats_source", "-") for x in mine)
        elapsed.append(c["elapsed_ms"])
        cpu.append(s["overhead"]["cpu_ms"])
        late.append(s["overhead"]["wall_ms"] - interval * 1000)
        cpu_off.append(snap("--no-docker")["overhead"]["cpu_ms"])
    rows[n] = [statistics.median(v) for v in (elapsed, cpu, cpu_off, late)] + [",".join(sorted(sources))]

# The same stats asked for one container at a time (as a loop over `docker stats --no-stream`
# or a naive client would), straight from the engine with curl.
api = subprocess.run(["docker", "version", "-f", "{{.Server.APIVersion}}"], check=True,
                     capture_output=True, text=True).stdout.strip()
time.sleep(1.5)
t = time.monotonic()
for name in running:
    subprocess.run(["curl", "-sf", "-o", "/dev/null", "--unix-socket", "/var/run/docker.sock",
                    f"http://localhost/v{api}/containers/{name}/stats?stream=false&one-shot=true"], check=True)
sequential = (time.monotonic() - t) * 1000

load = open("/proc/loadavg").read().split()[:3]
print(f"{runs} runs per count, interval {interval:g} s, engine API {api}, {os.cpu_count()} CPUs, load {' '.join(load)}\n")
print(f"{'containers':>10} {'collector ms':>13} {'doctor CPU ms':>14} {'--no-docker CPU':>16} {'wall late ms':>13}  stats_source")
for n, (e, c, off, l, src) in rows.items():
    print(f"{n:>10} {e:13.1f} {c:14.1f} {off:16.1f} {l:13.0f}  {src}")
print()
print(f"one-shot stats for {len(running)} containers one at a time: {sequential:.0f} ms for one reading "
      f"(doctor needs two readings: {rows[20][0]:.0f} ms)")
print(f"collector time 20 / 2 containers: {rows[20][0] / rows[2][0]:.2f}")
print(f"collector time 20 / 1 container:  {rows[20][0] / rows[1][0]:.2f} (issue 4's goal: ≤ 1.5)")
PY
