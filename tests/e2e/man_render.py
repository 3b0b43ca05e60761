"""The manual as people read it: render man/natcheck.1 and check the lines
that once came out wrong.

Usage: python3 tests/e2e/man_render.py ./natcheck

A macro such as .Fl inside a .Pq line keeps applying to the words after
it: "-t" once read "(... -0.05 -to -3600)" and EXIT STATUS "(or, with
--serve, -a -clean -stop)".  Each renderer that is installed (mandoc
-Tascii and -Tutf8, man -l) must show the plain words.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
MAN = os.path.join(os.path.dirname(NATCHECK), "man", "natcheck.1")
c = Checks()


def plain(text):
    """Rendered text without overstrike, with ASCII hyphens, hyphenation
    undone and whitespace folded."""
    text = re.sub(r".\x08", "", text)
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    text = text.replace("\u2010", "-").replace("\u2212", "-").replace("\u2011", "-")
    text = re.sub(r"(\w)-\n\s*(\w)", r"\1\2", text)
    return " ".join(text.split())


renderers = []
if shutil.which("mandoc"):
    renderers += [("mandoc -Tascii", ["mandoc", "-Tascii", MAN]),
                  ("mandoc -Tutf8", ["mandoc", "-Tutf8", MAN])]
if shutil.which("man"):
    renderers.append(("man -l", ["man", "-l", MAN]))
if not renderers:
    c.skip("no mandoc and no man")

env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8")
for name, cmd in renderers:
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    text = plain(p.stdout)
    if not c.check(f"{name}: renders", p.returncode == 0 and "EXIT STATUS" in text, p.stderr[:300]):
        continue
    c.check(f"{name}: -t reads '(default 3, or 20 with --rfc3489-timing; from 0.05 to 3600)'",
            "(default 3, or 20 with --rfc3489-timing; from 0.05 to 3600)" in text,
            re.search(r"Cap the whole run.{0,80}", text))
    c.check(f"{name}: EXIT STATUS 0 reads '(or, with --serve, a clean stop)'",
            "Open Internet (or, with --serve, a clean stop)" in text,
            re.search(r"Open Internet \(or.{0,40}", text))
    c.check(f"{name}: no stray dash before a plain word",
            not re.search(r"(?<![\w-])-(to|a|clean|stop|from)\b", text),
            re.findall(r".{20}(?<![\w-])-(?:to|a|clean|stop|from)\b.{10}", text))
    c.check(f"{name}: long forms shown as '-4, --ipv4' and '-t, --timeout seconds'",
            "-4, --ipv4" in text and "-t, --timeout seconds" in text and "-b, --bind address[:port]" in text,
            "")

c.finish()
