"""End to end: without an OS random source natcheck sends nothing and exits 1.

Usage: python3 tests/e2e/random_source.py ./natcheck

Transaction IDs must never be guessable.  A small LD_PRELOAD library (built
here with cc) makes getentropy(3) fail and /dev/urandom impossible to open;
natcheck must then stop with one line and exit 1, and a listening socket on
127.0.0.1 must receive no datagram at all.  With NORANDOM_LATER=1 the
source fails only once the detection is over (after its first use, a
socket closed and a new one made: the --lifetime run's sockets): that run
must end the same way, through main (issue #20: it called _exit(1), which
lost the --json result), sending nothing.  Skipped without a C compiler or
where LD_PRELOAD does not apply.
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, run, xor_mapped  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
c = Checks()

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* NORANDOM_LATER: the source works until it was used, a descriptor was
 * closed and a socket made after that; then it fails for good. */
static int used, closed, tripped;

static int failing(void)
{
	const char *later = getenv("NORANDOM_LATER");

	return !(later != NULL && *later == '1') || tripped;
}

int getentropy(void *buf, size_t len)
{
	static int (*real)(void *, size_t);

	if (failing()) { errno = ENOSYS; return -1; }
	used = 1;
	if (!real) real = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "getentropy");
	return real(buf, len);
}

int close(int fd)
{
	static int (*real)(int);

	if (used) closed = 1;
	if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "close");
	return real(fd);
}

int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);

	if (closed) tripped = 1;
	if (!real) real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	return real(domain, type, protocol);
}

static int no_random(const char *path) { return failing() && path && strstr(path, "random") != NULL; }

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

    # The source fails after the detection, when --lifetime opens its
    # sockets: main reports it (the --json result with its error) and the
    # lifetime engine sends nothing.  A plain Binding responder notes each
    # request's source port: the detection sends from its 4 sockets, the
    # lifetime run would from fresh ones.
    ports, stop = set(), threading.Event()
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(0.05)

    def serve():
        while not stop.is_set():
            try:
                data, peer = srv.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) < 20 or data[0:2] != b"\x00\x01":
                continue
            ports.add(peer[1])
            body = xor_mapped(peer[0], peer[1])
            srv.sendto(struct.pack("!HH", 0x0101, len(body)) + data[4:20] + body, peer)

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    later = dict(env, NORANDOM_LATER="1")
    p = subprocess.run([NATCHECK, "--json", "-4", "--no-portmap", "--lifetime=5",
                        f"127.0.0.1:{srv.getsockname()[1]}"], capture_output=True, text=True,
                       env=later, timeout=60)
    time.sleep(0.2)
    stop.set()
    th.join(2)
    srv.close()
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = None
    c.check("random source lost before --lifetime: exit 1, the reason said once, last",
            p.returncode == 1 and p.stderr.endswith("natcheck: cannot read the OS random source\n")
            and p.stderr.count("random source") == 1, f"rc={p.returncode} err={p.stderr!r}")
    c.check("random source lost before --lifetime: main writes the --json result with the error "
            "(issue #20: _exit(1) in the engine's loop lost it)",
            doc is not None and doc.get("exit") == 1
            and doc.get("error") == "cannot read the OS random source" and "type" in doc,
            f"out={p.stdout[:300]!r}")
    c.check("random source lost before --lifetime: the detection ran, the lifetime run sent "
            "nothing", 0 < len(ports) <= 4, sorted(ports))

c.finish()
