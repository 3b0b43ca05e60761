#!/usr/bin/env python3
"""Helpers for tests/package/run.sh that need a parser rather than grep.

  unitcheck.py argv UNIT
      The ExecStart= of UNIT as systemd would run it with this process's
      environment, one argument per line, NUL-terminated: quotes removed,
      "$$" made "$", "${NAME}" replaced inside its word, and a word that is
      just "$NAME" replaced by the value split at whitespace
      (systemd.service(5), "Command lines").

  unitcheck.py sandbox UNIT TRACE...
      Whether the processes traced by `strace -f -o TRACE` stayed inside
      UNIT's SystemCallFilter= (with @default, which systemd always
      allows), RestrictAddressFamilies= and MemoryDenyWriteExecute=.
      Prints one line per breach; exits 1 if there was any.
"""
import re
import shlex
import subprocess
import sys


def unit_values(path, key):
    """Every value of KEY= in the [Service] section, in order."""
    vals, section = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]" and line.startswith(key + "="):
                vals.append(line[len(key) + 1:])
    return vals


def exec_argv(path, env):
    (cmd,) = unit_values(path, "ExecStart")
    argv = []
    for word in shlex.split(cmd, posix=True):
        whole = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if whole:
            argv.extend(env.get(whole.group(1), "").split())
            continue
        argv.append(re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                           lambda m: "$" if m.group(0) == "$$"
                           else env.get(m.group(1), ""), word))
    return argv


def syscall_groups():
    """{"@group": [members, which may be "@groups"]} from systemd itself."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                         capture_output=True, text=True).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = groups.setdefault(line.strip(), [])
        elif cur is not None and line.strip() and not line.strip().startswith("#"):
            cur.append(line.strip())
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for n in names:
        if n.startswith("@"):
            if n not in seen:
                seen.add(n)
                out |= expand(groups[n], groups, seen)
        else:
            out.add(n)
    return out


def sandbox(path, traces):
    groups = syscall_groups()
    allow, deny = set(expand(["@default"], groups)), set()
    for v in unit_values(path, "SystemCallFilter"):
        if v.startswith("~"):
            deny |= expand(v[1:].split(), groups)
        else:
            allow |= expand(v.split(), groups)
    allow -= deny
    families = set()
    for v in unit_values(path, "RestrictAddressFamilies"):
        families |= set(v.split())
    mdwe = "yes" in unit_values(path, "MemoryDenyWriteExecute")

    breaches, seen = [], set()
    call = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]")
    for t in traces:
        with open(t, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = call.match(line)
                if not m:
                    continue
                name = m.group(1)
                seen.add(name)
                if name not in allow:
                    breaches.append(f"system call outside SystemCallFilter=: {line.strip()}")
                if name == "socket" and families:
                    fam = re.search(r"socket\((AF_[A-Z0-9]+)", line)
                    if fam and fam.group(1) not in families:
                        breaches.append(f"address family outside RestrictAddressFamilies=: {line.strip()}")
                if mdwe and name in ("mmap", "mprotect", "pkey_mprotect"):
                    # The protection is the third argument of all three;
                    # systemd refuses W+X maps and any mprotect to X.
                    parts = line.split(",")
                    prot = parts[2] if len(parts) > 2 else ""
                    if "PROT_EXEC" in prot and (name != "mmap" or "PROT_WRITE" in prot):
                        breaches.append(f"writable+executable memory under MemoryDenyWriteExecute=: {line.strip()}")
    if not seen:
        breaches.append("no system call in the traces: was strace run?")
    for b in breaches:
        print(b)
    print(f"{len(seen)} distinct system calls, {len(breaches)} outside the sandbox")
    return 1 if breaches else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "argv":
        import os
        for a in exec_argv(sys.argv[2], os.environ):
            sys.stdout.write(a + "\0")
        return 0
    if len(sys.argv) >= 4 and sys.argv[1] == "sandbox":
        return sandbox(sys.argv[2], sys.argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
