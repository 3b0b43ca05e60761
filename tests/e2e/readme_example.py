"""The README's loopback example, run verbatim so it cannot drift.

Usage: python3 tests/e2e/readme_example.py ./natcheck

The commands are the "$ " lines of the README block that starts the
server on 127.0.0.1,127.0.0.2; they run in natcheck's directory, in order,
inside `unshare -n` (a fresh network namespace: only its own loopback, so
the default ports 3478/3479 cannot collide with anything else and no
packet leaves).  After a command that puts the server in the background,
the script waits until the server answers, as a person typing would.
The printed result must match the README's, up to port numbers and
timings.  Needs root, unshare and ip; otherwise skipped.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
ROOT = os.path.dirname(NATCHECK)
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
MARK = "@@@ README COMMAND @@@"
c = Checks()


def example_block():
    """[(command, expected output lines)] of the loopback example."""
    blocks, cur = [], None
    for line in open(README).read().splitlines():
        if line.startswith("```"):
            if cur is None:
                cur = []
            else:
                blocks.append("\n".join(cur))
                cur = None
        elif cur is not None:
            cur.append(line)
    block = next((b for b in blocks if "$ ./natcheck --serve 127.0.0.1,127.0.0.2 &" in b), None)
    if block is None:
        return None
    steps = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def normalize(line):
    """Port numbers and timings vary from run to run; the rest must not."""
    line = re.sub(r"(127\.0\.0\.1):\d+$", r"\1:PORT", line)
    line = re.sub(r"ports \d+\.\.\d+\)$", "ports N..N)", line)
    return re.sub(r"^Time +\d+ ms, \d+ datagrams sent", "Time N ms, N datagrams sent", line)


steps = example_block()
c.check("README has the loopback example", steps and len(steps) >= 2, steps)
if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
    c.skip("running the README example (needs root, unshare and ip)")
elif steps:
    script = ["set -u", "ip link set lo up || exit 99"]
    for cmd, _ in steps:
        script.append(f"echo '{MARK}'")
        script.append(cmd)
        if cmd.rstrip().endswith("&"):
            # wait (bounded, 5 s) until the server answers
            script.append('for i in $(seq 50); do ./natcheck -q -t 0.2 127.0.0.1 >/dev/null 2>&1 '
                          '&& break; sleep 0.1; done')
    # Did the README's own commands stop the server?  Then clean up anyway.
    script.append('for i in $(seq 50); do [ -z "$(jobs -rp)" ] && break; sleep 0.1; done')
    script.append('echo "running-jobs: $(jobs -rp | wc -l)" >&2')
    script.append('for j in $(jobs -rp); do kill "$j"; done; wait; exit 0')
    p = subprocess.run(["unshare", "-n", "bash", "-c", "\n".join(script)], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    outputs = p.stdout.split(MARK + "\n")[1:]
    c.check("every README command ran", p.returncode == 0 and len(outputs) == len(steps),
            f"rc={p.returncode} stderr={p.stderr!r}")
    for (cmd, want), got in zip(steps, outputs):
        got_lines = [normalize(x) for x in got.splitlines()]
        want_lines = [normalize(x) for x in want]
        c.check(f"README '$ {cmd}': output as shown", got_lines == want_lines,
                f"\n  README: {want_lines}\n  got:    {got_lines}")
    c.check("the README example leaves no server behind (kill %1 stopped it)",
            "running-jobs: 0\n" in p.stderr, p.stderr)

c.finish()
