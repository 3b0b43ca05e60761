#!/usr/bin/env python3
"""Every Debian package the tests need is one `make deps` installs.

    python3 tests/debian_deps.py PACKAGE...     (make check-deps passes DEB_PACKAGES)

A test that finds a tool missing skips, and a skip passes nowhere (make
check fails on it); but a package installed by hand on one machine hides a
missing entry in DEB_PACKAGES until a fresh machine fails.  So:

1. Declared prerequisites.  Every package a test, a benchmark, the Makefile
   or .ci names as a prerequisite must be in DEB_PACKAGES:
     - TOOL:PACKAGE words of `lab_preflight LABEL TOOL:PACKAGE...` and of
       `for tool in TOOL:PACKAGE...` loops (continued lines joined);
     - every "(Debian package NAME)" in a message.
   A message whose package is computed ("(Debian package {pkg})") cannot be
   checked and fails, except the one line of each TOOL:PACKAGE loop that
   prints its words.
2. Every tool the tests run.  The commands the scripts look up (`command -v
   X`, `shutil.which("X")`, the TOOLs above), run in a lab namespace
   (`lab_client|lab_router|lab_server|lab_spawn NAME NS|ip netns exec NS`),
   start from Python (`run(["X", ...])`, `subprocess.*(["X", ...])`) or
   that ALWAYS names (run directly, found by no pattern), and the files
   FILES names, must be installed, and dpkg must say they come from a
   package that DEB_PACKAGES installs: one of its words or their
   dependencies (apt-cache depends --recurse --installed), or an essential
   or required package, which every Debian system has.  A TOOL:PACKAGE
   word's tool must come from that very PACKAGE (or one it depends on).  Without dpkg, or for a
   tool that is not installed here, that check is skipped (exit 77: on a
   machine where `make deps` ran, nothing is).

Prints one line per check; ends with "N passed, M failed, K skipped".
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
# Run directly, never looked up first: found by none of the patterns below.
ALWAYS = ("ip", "nft", "ss", "sysctl", "unshare", "mount", "timeout", "taskset", "nm",
          "cc", "make", "python3", "clang", "mandoc", "shellcheck", "dpkg-buildpackage",
          "dh", "lintian", "dpkg-deb", "dpkg", "systemd-analyze", "strace", "zsh", "man")
# Files the tests need that are not commands.
FILES = ("/usr/lib/nagios/plugins/check_dummy",             # tests/e2e/monitor_nagios.py
         "/usr/share/bash-completion/bash_completion",      # tests/package/run.sh
         "/usr/include/criterion/criterion.h")              # the unit tests
PY_MODULES = ("jsonschema",)                                # the JSON Schema checks

PKG = r"[a-z0-9][a-z0-9.+-]+"
PAIR = re.compile(r"^([A-Za-z0-9_.+-]+):(" + PKG + r")$")
MESSAGE = re.compile(r"\(Debian package (" + PKG + r")\)")
ANY_MESSAGE = re.compile(r"\(Debian package [^)]*\)")
LOOKUP = re.compile(r"command -v ([A-Za-z0-9_.+-]+)|shutil\.which\(\"([A-Za-z0-9_.+-]+)\"\)")
IN_NS = re.compile(r"(?:\blab_(?:client|router|server)|\bip netns exec \S+|\blab_spawn \S+ \S+)"
                   r"(?: timeout [0-9]+)? ([a-z][A-Za-z0-9_.+-]*)\b")
PY_RUN = re.compile(r"(?:\brun|subprocess\.(?:run|Popen|check_output|call))\(\[\"([a-z][A-Za-z0-9_.+-]*)\"")
# Words those patterns find that are no programs of a package.
NOT_TOOLS = {"python3", "sh", "bash", "true", "env", "kill", "cat", "sleep", "echo", "test",
             "sed", "grep", "awk", "head", "tail", "wc", "sort", "tr", "cut", "seq"}


class Checks:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok    {name}")
        else:
            self.failed += 1
            print(f"FAIL  {name}" + (f": {detail}" if detail else ""))

    def skip(self, what):
        self.skipped += 1
        print(f"skip  {what}")


def sources():
    """The text files that may name a prerequisite: tests/, bench/, the
    Makefile and .ci/run (fuzz corpora and caches left out)."""
    out = [os.path.join(TOP, "Makefile"), os.path.join(TOP, ".ci", "run")]
    for base in ("tests", "bench"):
        for d, dirs, files in os.walk(os.path.join(TOP, base)):
            dirs[:] = [x for x in dirs if not x.startswith(("corpus_", "__pycache__", "out"))]
            out += [os.path.join(d, f) for f in sorted(files)
                    if f.endswith((".sh", ".py", ".zsh", ".c", ".h")) or f in ("run", "README")]
    return [p for p in out if os.path.isfile(p)]


def logical_lines(text):
    """Lines with backslash continuations joined, each with its first line's number."""
    out, buf, start = [], "", 0
    for n, line in enumerate(text.splitlines(), 1):
        if not buf:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        out.append((start, buf + line))
        buf = ""
    if buf:
        out.append((start, buf))
    return out


def pair_words(line):
    """The TOOL:PACKAGE words of a lab_preflight call or a `for tool in` list."""
    m = re.search(r"\blab_preflight\s+(.*)$", line)
    if m and not re.match(r"\s*lab_preflight\s*\(\)", line) and "()" not in line:
        try:
            words = shlex.split(m.group(1).split(";")[0], comments=True)[1:]
        except ValueError:
            words = m.group(1).split()[1:]
        return words
    m = re.search(r"\bfor tool in ([^;]*)", line)
    if m:
        return m.group(1).split()
    return []


def scan():
    """(declared {package: [where]}, pairs {(tool, package): [where]},
    tools {tool: [where]}, unreadable [where])."""
    declared, pairs, tools, unreadable = {}, {}, {}, []
    for path in sources():
        rel = os.path.relpath(path, TOP)
        if rel == os.path.join("tests", "debian_deps.py"):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for n, line in logical_lines(text):
            where = f"{rel}:{n}"
            for w in pair_words(line):
                m = PAIR.match(w)
                if m:
                    pairs.setdefault((m.group(1), m.group(2)), []).append(where)
                    declared.setdefault(m.group(2), []).append(where)
                    tools.setdefault(m.group(1), []).append(where)
            for m in MESSAGE.finditer(line):
                declared.setdefault(m.group(1), []).append(where)
            for m in ANY_MESSAGE.finditer(line):
                if not MESSAGE.fullmatch(m.group(0)) and "${tool#*:}" not in m.group(0):
                    unreadable.append(f"{where}: {m.group(0)}")
            for m in LOOKUP.finditer(line):
                name = m.group(1) or m.group(2)
                tools.setdefault(name, []).append(where)
            for rx in (IN_NS, PY_RUN):
                for m in rx.finditer(line):
                    if m.group(1) not in NOT_TOOLS:
                        tools.setdefault(m.group(1), []).append(where)
    return declared, pairs, tools, unreadable


def dpkg_owner(path):
    """The package that ships path (through /bin <-> /usr/bin aliases and
    symbolic links), or None."""
    cands = [path, os.path.realpath(path)]
    for p in list(cands):
        for a, b in (("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/"), ("/usr/lib/", "/lib/")):
            if p.startswith(a):
                cands.append(b + p[len(a):])
            elif p.startswith(b):
                cands.append(a + p[len(b):])
    for p in cands:
        r = subprocess.run(["dpkg-query", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            for line in r.stdout.splitlines():
                pkg, _, owned = line.partition(": ")
                if owned.strip() == p and not pkg.startswith("diversion"):
                    return pkg.split(":")[0].split(",")[0].strip()
    return None


def closure(packages):
    """Every installed package that installing `packages` brings in."""
    r = subprocess.run(["apt-cache", "depends", "--recurse", "--installed", "--no-recommends",
                        "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
                        "--no-enhances", *packages], capture_output=True, text=True)
    names = set(packages)
    for line in r.stdout.splitlines():
        if line and not line[0].isspace() and not line.startswith("<"):
            names.add(line.strip())
    return names


def always_there():
    """Essential and required packages: on every Debian system."""
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Essential} ${Priority}\\n"],
                       capture_output=True, text=True)
    out = set()
    for line in r.stdout.splitlines():
        w = line.split()
        if len(w) == 3 and (w[1] == "yes" or w[2] == "required"):
            out.add(w[0])
    return out


def main(argv):
    deb = argv[1:]
    c = Checks()
    if not deb:
        print("usage: debian_deps.py PACKAGE... (the Makefile's DEB_PACKAGES)", file=sys.stderr)
        return 2
    declared, pairs, tools, unreadable = scan()
    debset = set(deb)

    # The scan must see what the suite is known to declare, or it reads
    # nothing and passes: one package of each form.
    c.check(f"the scan finds prerequisites: {len(declared)} packages, {len(pairs)} TOOL:PACKAGE "
            f"words, {len(tools)} tools",
            any(w for ws in pairs.values() for w in ws if w.startswith("tests/lab/"))
            and len(declared) >= 5 and len(tools) >= 10, f"{sorted(declared)}")
    for u in unreadable:
        c.check(f"a readable package name: {u}", False, "write the package name out")
    for pkg in sorted(declared):
        where = declared[pkg]
        c.check(f"{pkg} is in DEB_PACKAGES (named at {', '.join(sorted(set(where))[:3])}"
                f"{' ...' if len(set(where)) > 3 else ''})", pkg in debset,
                "add it to DEB_PACKAGES in the Makefile (make deps installs exactly those)")

    if not shutil.which("dpkg-query") or not shutil.which("apt-cache"):
        c.skip("which package each tool comes from: no dpkg-query or apt-cache here")
        return finish(c)
    given = closure(deb)
    base = always_there()
    missing = [p for p in deb if p not in given or not installed(p)]
    for p in missing:
        c.skip(f"DEB_PACKAGES word {p} is not installed here (make deps)")
    ok_pkgs = given | base

    def judge(what, path, want=None):
        owner = dpkg_owner(path)
        if owner is None:
            c.check(f"{what}: {path} belongs to a Debian package", False, "dpkg knows no owner")
        elif want is not None:
            c.check(f"{what}: {path} comes from {want} ({owner})",
                    owner == want or owner in closure([want]), f"it comes from {owner}")
        else:
            c.check(f"{what}: {path} comes from {owner}, which make deps installs",
                    owner in ok_pkgs, f"{owner} is neither in DEB_PACKAGES, a dependency of them, "
                    f"nor essential: add it to DEB_PACKAGES")

    names = sorted(set(tools) | set(ALWAYS))
    for t in names:
        path = shutil.which(t)
        if path is None:
            c.skip(f"{t} (used at {', '.join(sorted(set(tools.get(t, ['ALWAYS'])))[:2])}) is not installed here")
            continue
        judge(t, path)
    for (tool, pkg), where in sorted(pairs.items()):
        path = shutil.which(tool)
        if path is not None:
            judge(f"{tool}:{pkg}", path, pkg)
    for f in FILES:
        if os.path.exists(f):
            judge("file", f)
        else:
            c.skip(f"{f} is not installed here")
    for mod in PY_MODULES:
        r = subprocess.run(["python3", "-c", f"import {mod}; print({mod}.__file__)"],
                           capture_output=True, text=True)
        if r.returncode == 0:
            judge(f"python3 module {mod}", r.stdout.strip())
        else:
            c.skip(f"python3 module {mod} is not installed here")
    return finish(c)


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", pkg], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.strip() == "install ok installed"


def finish(c):
    print(f"{c.passed} passed, {c.failed} failed, {c.skipped} skipped")
    if c.failed:
        return 1
    return 77 if c.skipped else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
