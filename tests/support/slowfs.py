#!/usr/bin/env python3
"""A FUSE filesystem holding one file, `disk.img`, whose every read, write and fsync takes a
set time: attached to a loop device, it makes a genuinely slow block device (each request the
loop driver sends down waits that long, as on a slow disk or a network volume).

    slowfs.py MOUNTPOINT STORE SIZE_BYTES DELAY_FILE MAX_LIFE_S

STORE is a (sparse) regular file holding the data. DELAY_FILE holds the delay in milliseconds;
it is re-read every 100 ms, so a test can set up at full speed and slow the device down later.
The file system unmounts itself and exits after MAX_LIFE_S seconds whatever happens to the test
(libfuse handles SIGTERM by leaving its loop and unmounting). Used by tests/support/slowdev.rs.

Mounted with `direct_io`, so the kernel sends every read and write to this process instead of
serving it from the page cache: the delay applies to each request. Needs fusepy (Debian's
python3-fusepy, which imports as `fusepy`; PyPI's imports as `fuse`) and libfuse2.
"""

import errno
import os
import signal
import stat
import sys
import threading
import time

try:
    from fusepy import FUSE, FuseOSError, Operations
except ImportError:  # fusepy from PyPI
    from fuse import FUSE, FuseOSError, Operations

NAME = "/disk.img"


class SlowFile(Operations):
    use_ns = True

    def __init__(self, store, size, delay_file):
        self.fd = os.open(store, os.O_RDWR)
        self.size = size
        self.delay_file = delay_file
        self.delay_s = 0.0
        self.requests = 0
        threading.Thread(target=self._watch_delay, daemon=True).start()

    def _watch_delay(self):
        while True:
            try:
                with open(self.delay_file) as f:
                    self.delay_s = max(0.0, float(f.read().strip() or 0)) / 1000.0
            except (OSError, ValueError):
                pass
            time.sleep(0.1)

    def _wait(self):
        if self.delay_s > 0:
            time.sleep(self.delay_s)

    def getattr(self, path, fh=None):
        now = time.time_ns()
        if path == "/":
            return {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2, "st_ctime": now,
                    "st_mtime": now, "st_atime": now}
        if path == NAME:
            return {"st_mode": stat.S_IFREG | 0o600, "st_nlink": 1, "st_size": self.size,
                    "st_ctime": now, "st_mtime": now, "st_atime": now}
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", NAME[1:]]

    def open(self, path, flags):
        if path != NAME:
            raise FuseOSError(errno.ENOENT)
        return 0

    def read(self, path, size, offset, fh):
        self._wait()
        size = max(0, min(size, self.size - offset))
        return os.pread(self.fd, size, offset)

    def write(self, path, data, offset, fh):
        self._wait()
        if offset + len(data) > self.size:
            raise FuseOSError(errno.ENOSPC)
        return os.pwrite(self.fd, data, offset)

    def fsync(self, path, datasync, fh):
        self._wait()
        return 0

    def flush(self, path, fh):
        return 0

    def truncate(self, path, length, fh=None):
        return 0

    def release(self, path, fh):
        return 0

    def statfs(self, path):
        return {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": self.size // 4096,
                "f_bfree": 0, "f_bavail": 0, "f_namemax": 255}


def main():
    mountpoint, store, size, delay_file, max_life = sys.argv[1:6]
    # Bounded life: SIGTERM makes libfuse leave its loop and unmount.
    def expire():
        time.sleep(float(max_life))
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=expire, daemon=True).start()
    FUSE(SlowFile(store, int(size), delay_file), mountpoint, foreground=True,
         nothreads=False, direct_io=True, big_writes=True, max_write=131072,
         fsname="doctor-slowfs")


if __name__ == "__main__":
    main()
