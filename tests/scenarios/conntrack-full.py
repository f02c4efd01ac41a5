#!/usr/bin/env python3
"""Derives fixtures/conntrack-table-full.json from the recorded fixtures/healthy.json.

The case it stands for cannot be recorded here without disturbing the machine: the
connection-tracking table is one for the whole machine, and its size (net.netfilter.nf_conntrack_max)
is read-only in any network namespace but the first (checked on Linux 6.18: `unshare -n` shows
the file mode 0444), so filling it for real means shrinking the table every other workload here
uses. The copy keeps the recorded snapshot (its `tcp.conntrack` read from this machine's real
/proc/sys/net/netfilter and /proc/net/stat/nf_conntrack, whose per-CPU rows doctor sums as
`conntrack -S` does: src/collect/conntrack.rs tests the parsing on this kernel's text) and moves
only the table's figures to a full table dropping packets, as a Docker host with a small
nf_conntrack_max shows them, and says so in `tcp.notes`.

    python3 tests/scenarios/conntrack-full.py   # after bash tests/scenarios/record.sh healthy
"""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parents[2] / "fixtures"
snap = json.loads((root / "healthy.json").read_text())
tcp = snap["tcp"]
ct = tcp["conntrack"]
assert "drop" in ct["stats"], "the recorded fixture has the kernel's conntrack statistics"
seconds = snap["window"]["elapsed_ms"] / 1000.0
ct["max"] = 65536
ct["count"] = 65536
ct["used_pct"] = 100.0


def grow(name, delta):
    c = ct["stats"][name]
    c["total"] = c["total"] + delta
    c["delta"] = delta
    c["per_s"] = round(delta / seconds, 2)


grow("drop", 1840)
grow("early_drop", 0)
grow("insert_failed", 12)
tcp["notes"] = tcp.get("notes", []) + [
    "hand-edited copy of fixtures/healthy.json by tests/scenarios/conntrack-full.py: tcp.conntrack "
    "moved to a full table (count = max = 65536) with 1840 packets dropped and 12 failed inserts "
    "in the window; nf_conntrack_max is one for the machine and read-only in a network namespace "
    "of its own, so a full table is a case this machine cannot record without disturbing it"
]
(root / "conntrack-table-full.json").write_text(json.dumps(snap, indent=2) + "\n")
print("wrote fixtures/conntrack-table-full.json")
