#!/usr/bin/env python3
"""Derives fixtures/mysql-slow-disk-not-visible.json from the recorded fixtures/mysql-slow-disk.json.

The case it stands for cannot be recorded on one machine: the same slow server whose datadir is on
a device doctor cannot see (another host, a managed cloud volume). The copy removes from the
recorded snapshot exactly what doctor would not see then, and says so in `disks.notes`:
the datadir's loop device from `disks.devices`; the datadir's device, rotational flag and local
reading (`mysql.datadir`), the server's pid and error log (and the error log's `logs` source);
the server's process, settings and connections in `mysql_server`, as for a server elsewhere.

    python3 tests/scenarios/not-visible.py   # after bash tests/scenarios/record.sh mysql-slow-disk
"""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parents[2] / "fixtures"
snap = json.loads((root / "mysql-slow-disk.json").read_text())

mysql = snap["mysql"]
datadir = mysql["datadir"]
device = datadir.get("device")
assert device, "the recorded fixture names the datadir's device"
snap["disks"]["devices"] = [d for d in snap["disks"]["devices"] if d["name"] != device]
for key in ("device", "rotational", "underlying", "read_through"):
    datadir.pop(key, None)
datadir["local"] = False
error_log = mysql.pop("error_log", None)
mysql.pop("server_pid", None)
mysql["notes"] = [n for n in mysql.get("notes", []) if "datadir" not in n] + [
    f"the server does not run on this machine's filesystem (a container or another host): its "
    f"datadir {datadir['path']} is not here, so its disk is not determined; run doctor where the "
    f"files are"
]
logs = snap["logs"]
if error_log and "sources" in logs:
    logs["sources"] = [s for s in logs["sources"] if s.get("path") != error_log]
server = snap["mysql_server"]
for key in ("process", "options", "option_files", "connections"):
    server.pop(key, None)
server["notes"] = [
    "the server's process was not found on this machine: 127.0.0.1 serves the port through a "
    "tunnel to the server's host (hand-edited: see disks.notes)"
]
mark = (
    "hand-edited copy of fixtures/mysql-slow-disk.json by tests/scenarios/not-visible.py: see "
    "disks.notes"
)
mysql["notes"].append(mark)
snap["disks"]["notes"] = snap["disks"].get("notes", []) + [
    "hand-edited copy of fixtures/mysql-slow-disk.json (recorded on a real slow loop device) by "
    "tests/scenarios/not-visible.py: the datadir's device removed from disks.devices, "
    "mysql.datadir made not local (device, rotational, server_pid and error_log removed, the "
    "error log's logs source with them), mysql_server without the server's process, settings "
    "and connections, as doctor sees a server whose datadir is on another host or a managed "
    "cloud volume: a case one machine cannot record"
]
(root / "mysql-slow-disk-not-visible.json").write_text(json.dumps(snap, indent=2) + "\n")
print(f"wrote fixtures/mysql-slow-disk-not-visible.json without {device}")
