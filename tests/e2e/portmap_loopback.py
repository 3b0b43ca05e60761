"""End to end: the port-mapping probes stay silent on loopback.

Usage: python3 tests/e2e/portmap_loopback.py ./natcheck

Against natcheck's own server on 127.0.0.1 there is no gateway to ask, so
natcheck must not send one datagram beyond the STUN tests (no SSDP, no
NAT-PMP, no PCP: checked with strace when it is installed), must report
every port-mapping answer as null, and --no-portmap must say the probes
were off.  Only 127.0.0.0/8 is contacted.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, Server, run  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
c = Checks()
NULLS = ("upnp", "natpmp", "pcp", "gateway", "external",
         "natpmp_result", "pcp_result", "upnp_external", "upnp_error")

with Server(NATCHECK) as srv:
    target = f"127.0.0.1:{srv.port}"
    rc, out, err, _ = run([NATCHECK, "--json", target])
    pm = json.loads(out).get("portmap") if rc == 0 else None
    c.check("JSON has a portmap object", isinstance(pm, dict), out[:200])
    if isinstance(pm, dict):
        c.check("loopback: probes enabled, nothing known",
                pm["enabled"] is True and all(pm[k] is None for k in NULLS), repr(pm))
        c.check("loopback: no NAT, so no double NAT",
                pm["double_nat"] is False and pm["double_nat_reason"] == "no-nat", repr(pm))
        c.check("loopback: statuses null (nothing asked)",
                all(pm[k + "_status"] is None for k in ("upnp", "natpmp", "pcp")), repr(pm))

    rc, out, err, _ = run([NATCHECK, "--json", "--no-portmap", target])
    pm = json.loads(out).get("portmap") if rc == 0 else None
    c.check("--no-portmap: enabled false, reason none",
            isinstance(pm, dict) and pm["enabled"] is False and pm["double_nat_reason"] == "none",
            repr(pm))

    rc, out, err, _ = run([NATCHECK, target])
    c.check("text: a Gateway line", re.search(r"^Gateway +none known on the path", out, re.M)
            is not None, out)
    rc, out, err, _ = run([NATCHECK, "--no-portmap", target])
    c.check("text --no-portmap: not asked", "Gateway      not asked (--no-portmap)" in out, out)

    # Every datagram natcheck sends goes to the STUN server's ports.
    if shutil.which("strace"):
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "trace")
            subprocess.run(["strace", "-f", "-qq", "-e", "trace=sendto,sendmsg,connect",
                            "-o", log, NATCHECK, target], capture_output=True, timeout=30)
            with open(log) as f:
                trace = f.read()
        ports = set(int(p) for p in re.findall(r"sin_port=htons\((\d+)\)", trace))
        c.check("strace: only the STUN server's ports are used",
                ports and ports <= {srv.port, srv.alt_port}, f"ports {sorted(ports)}")
        c.check("strace: no SSDP group, no port 5351 or 1900",
                "239.255.255.250" not in trace and not ({1900, 5351} & ports), trace[:300])
    else:
        c.skip("strace not installed: the no-traffic check did not run")

rc, out, err, _ = run([NATCHECK, "--serve", "127.0.0.1", "--no-portmap"])
c.check("--no-portmap with --serve is a usage error", rc == 2, f"rc {rc} {err!r}")
c.finish()
