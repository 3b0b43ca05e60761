"""End to end: without an OS random source natcheck sends nothing and exits 1.

Usage: python3 tests/e2e/random_source.py ./natcheck

Transaction IDs must never be guessable.  A small LD_PRELOAD library (built
here with cc) makes getentropy(3) fail and /dev/urandom impossible to open;
natcheck must then stop with one line and exit 1, and a listening socket on
127.0.0.1 must receive no datagram at all.  Skipped without a C compiler or
where LD_PRELOAD does not apply.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, run  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
c = Checks()

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/types.h>

int getentropy(void *buf, size_t len) { (void)buf; (void)len; errno = ENOSYS; return -1; }

static int no_random(const char *path) { return path && strstr(path, "random") != NULL; }

#define WRAP(name) \
int name(const char *path, int flags, ...) \
{ \
	static int (*real)(const char *, int, ...); \
	va_list ap; mode_t mode = 0; \
	if (no_random(path)) { errno = ENOENT; return -1; } \
	if (!real) real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name); \
	va_start(ap, flags); if (flags & O_CREAT) mode = (mode_t)va_arg(ap, int); va_end(ap); \
	return real(path, flags, mode); \
}
WRAP(open)
WRAP(open64)
"""

cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
if cc is None or sys.platform != "linux":
    c.skip("no C compiler or not Linux")
    c.finish()

with tempfile.TemporaryDirectory() as d:
    src, lib = os.path.join(d, "norandom.c"), os.path.join(d, "norandom.so")
    with open(src, "w") as f:
        f.write(SHIM)
    built = subprocess.run([cc, "-shared", "-fPIC", "-o", lib, src, "-ldl"], capture_output=True, text=True)
    c.check("the no-random shim builds", built.returncode == 0, built.stderr[-300:])

    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    env = dict(os.environ, LD_PRELOAD=lib)
    p = subprocess.run([NATCHECK, "-t", "1", f"127.0.0.1:{port}"], capture_output=True, text=True,
                       env=env, timeout=30)
    try:
        got = listener.recvfrom(2048)
    except socket.timeout:
        got = None
    listener.close()
    c.check("no OS random source: exit 1 with one line naming it",
            p.returncode == 1 and p.stderr == "natcheck: cannot read the OS random source\n" and p.stdout == "",
            f"rc={p.returncode} out={p.stdout!r} err={p.stderr!r}")
    c.check("no OS random source: not one datagram sent", got is None, repr(got))

    # The shim is not what failed: the same run without it works normally.
    rc, out, err, _ = run([NATCHECK, "-q", "-t", "0.2", f"127.0.0.1:{port}"])
    c.check("the same run with the random source: a verdict (not exit 1 from a broken shim)",
            out.strip() != "", f"rc={rc} out={out!r} err={err!r}")

c.finish()
