#!/usr/bin/env bash
# Log scanning speed and memory: doctor's scanner against `grep -c -E` with the same patterns on
# the same file (a benchmark, not a test: it prints figures, it does not pass or fail).
#
#   bash benches/logscan.sh            # 1 GiB log
#   SIZE_MIB=256 bash benches/logscan.sh
#
# Targets (issue 4): >= 1 GB/s, at least grep's speed, <= 20 MB peak RSS.
# The log is realistic: nginx access lines, JSON app lines, Java/Python lines, stack-trace frames,
# and about one line in a thousand that a pattern matches. Both tools read it from the page cache
# (it is read once before timing). Each tool runs 3 times; the best run is reported.
# Run it on a quiet machine: the load average is printed with the figures. Wall-clock speed suffers
# when other jobs share the CPUs, so CPU-time speed (bytes / user+system time) is printed too.
# doctor's figures: wall = the logs section's own time (the scan, in the real binary); CPU = the
# whole doctor process (its host collectors included); RSS = the whole process's peak.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-1024}
WORK=${WORK:-$(mktemp -d /tmp/doctor-logscan.XXXXXX)}
trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/app.log"

cargo build --release -j2 --quiet
DOCTOR=target/release/doctor

echo "generating a ${SIZE_MIB} MiB log in $WORK ..." >&2
python3 - "$WORK/chunk.log" <<'EOF'
import random, sys, json, tomllib, glob
random.seed(4)
samples = []
for f in sorted(glob.glob("rules/logs/*.toml")):
    samples += tomllib.load(open(f, "rb"))["samples"]
paths = ["/api/posts", "/api/posts/%d", "/api/users/%d/feed", "/api/auth/refresh", "/static/app.%x.js", "/health"]
agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "k6/0.49.0 (https://k6.io/)", "curl/8.5.0"]
out = []
size = 0
while size < 16 * 1024 * 1024:
    r = random.random()
    if r < 0.001:
        line = random.choice(samples)
    elif r < 0.45:
        p = random.choice(paths)
        if "%" in p: p = p % random.randint(1, 99999)
        line = '172.18.0.%d - - [03/Jan/2025:10:%02d:%02d +0000] "GET %s HTTP/1.1" %d %d "-" "%s" rt=%.3f uct="0.000" uht="0.%03d" urt="0.%03d"' % (
            random.randint(2, 254), random.randint(0, 59), random.randint(0, 59), p, random.choice([200, 200, 200, 304, 404, 500]),
            random.randint(0, 90000), random.choice(agents), random.random(), random.randint(0, 999), random.randint(0, 999))
    elif r < 0.75:
        line = json.dumps({"level": random.choice([30, 30, 30, 40]), "time": 1735898959000 + random.randint(0, 10**7), "pid": 27,
                           "hostname": "backend_prod", "reqId": "req-%x" % random.getrandbits(40),
                           "req": {"method": "GET", "url": "/api/posts?page=%d" % random.randint(1, 500)},
                           "res": {"statusCode": 200}, "responseTime": round(random.random() * 80, 3), "msg": "request completed"})
    elif r < 0.9:
        line = "2025-01-03 10:%02d:%02d.%03d  INFO 1 --- [nio-8080-exec-%d] c.e.shop.order.OrderService : order %d placed for customer %d, total %d.%02d EUR" % (
            random.randint(0, 59), random.randint(0, 59), random.randint(0, 999), random.randint(1, 200), random.getrandbits(32), random.randint(1, 10**6), random.randint(1, 999), random.randint(0, 99))
    else:
        line = "    at %s.%s (/app/node_modules/%s/lib/%s.js:%d:%d)" % (
            random.choice(["Layer", "Route", "Function", "next", "Query"]), random.choice(["handle", "dispatch", "process", "run"]),
            random.choice(["express", "typeorm", "rxjs", "@nestjs/core"]), random.choice(["router", "index", "query"]), random.randint(1, 900), random.randint(1, 60))
    out.append(line)
    size += len(line) + 1
open(sys.argv[1], "w").write("\n".join(out) + "\n")
EOF
CHUNK_MIB=$(( $(stat -c %s "$WORK/chunk.log") / 1048576 ))
: > "$LOG"
while [ "$(stat -c %s "$LOG")" -lt $(( SIZE_MIB * 1048576 )) ]; do cat "$WORK/chunk.log" >> "$LOG"; done
rm "$WORK/chunk.log"
BYTES=$(stat -c %s "$LOG")

# The same patterns for grep: every built-in regex, one per line (they are written in the common
# subset of Rust regex and POSIX ERE).
python3 - > "$WORK/patterns.txt" <<'EOF'
import glob, tomllib
for f in sorted(glob.glob("rules/logs/*.toml")):
    print(tomllib.load(open(f, "rb"))["regex"])
EOF
cat "$LOG" > /dev/null # into the page cache for both

best() { sort -g | head -1; }

doctor_s=() ; doctor_cpu=() ; doctor_rss=() ; doctor_lines=""
for _ in 1 2 3; do
  /usr/bin/time -f "%M %U %S" -o "$WORK/time" "$DOCTOR" snapshot -q -i 100ms --log "$LOG" --log-tail-bytes "$BYTES" -o "$WORK/snap.json"
  read -r s lines < <(python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); l=d['logs']
print(l['elapsed_ms']/1000, l['sources'][0]['matched_lines'])" "$WORK/snap.json")
  read -r rss user sys < "$WORK/time"
  doctor_s+=("$s"); doctor_lines=$lines; doctor_rss+=("$rss")
  doctor_cpu+=("$(echo "$user + $sys" | bc -l)")
done
grep_s=() ; grep_cpu=() ; grep_rss=() ; grep_lines=""
for _ in 1 2 3; do
  start=$(date +%s.%N)
  grep_lines=$(LC_ALL=C /usr/bin/time -f "%M %U %S" -o "$WORK/time" grep -c -E -f "$WORK/patterns.txt" "$LOG" || true)
  end=$(date +%s.%N)
  read -r rss user sys < "$WORK/time"
  grep_s+=("$(echo "$end - $start" | bc -l)"); grep_rss+=("$rss")
  grep_cpu+=("$(echo "$user + $sys" | bc -l)")
done

d=$(printf '%s\n' "${doctor_s[@]}" | best)
g=$(printf '%s\n' "${grep_s[@]}" | best)
dc=$(printf '%s\n' "${doctor_cpu[@]}" | best)
gc=$(printf '%s\n' "${grep_cpu[@]}" | best)
drss=$(printf '%s\n' "${doctor_rss[@]}" | sort -g | tail -1)
grss=$(printf '%s\n' "${grep_rss[@]}" | sort -g | tail -1)
python3 - "$BYTES" "$d" "$g" "$dc" "$gc" "$drss" "$grss" "$doctor_lines" "$grep_lines" "$(wc -l < "$WORK/patterns.txt")" "$CHUNK_MIB" <<'EOF'
import sys, os
b, d, g, dc, gc, drss, grss, dl, gl, npat, chunk = sys.argv[1:]
b = int(b); d, g, dc, gc = float(d), float(g), float(dc), float(gc)
la = os.getloadavg()
print(f"log: {b/2**30:.2f} GiB ({chunk} MiB of generated lines repeated), {npat} patterns; load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} on {os.cpu_count()} CPUs")
print(f"{'':24}{'wall':>9}{'GB/s':>7}{'CPU':>9}{'GB/s':>7}{'peak RSS':>10}{'matching lines':>16}")
print(f"{'doctor (logs section)':24}{d:8.3f}s{b/d/1e9:7.2f}{dc:8.2f}s{b/dc/1e9:7.2f}{int(drss)/1024:8.1f}MB{dl:>16}")
print(f"{'grep -c -E (LC_ALL=C)':24}{g:8.3f}s{b/g/1e9:7.2f}{gc:8.2f}s{b/gc/1e9:7.2f}{int(grss)/1024:8.1f}MB{gl:>16}")
print(f"doctor / grep speed: {g/d:.2f}x wall, {gc/dc:.2f}x CPU   (targets: >= 1 GB/s, >= 1x, <= 20 MB)")
if dl != gl:
    print(f"MISMATCH: doctor counted {dl} matching lines, grep {gl}")
EOF
