# SPDX-License-Identifier: GPL-2.0-only
"""Checks the DOM chromium dumped after the flamegraph's script ran.

Usage: check_dom.py DUMP KEY=VALUE...
  frames=N        the script saw N frames and is ready, with no error
  zoomed=NAME     NAME spans the full width, its ancestors are dimmed
  width=NAME:PX   the first frame called NAME is PX wide
  hidden=NAME     the first frame called NAME is hidden (zoomed out of view)
  matched=PCT     the search reports PCT ("Matched: PCT%")
  unmatched=1     no search is active
Exit 0 if all hold, 1 with a reason otherwise.
"""
import re
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"


def fail(msg):
    print("check_dom: " + msg)
    sys.exit(1)


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    start = text.find("<svg")
    if start < 0:
        fail("no <svg> in the dump")
    try:
        root = ET.fromstring(text[start:])
    except ET.ParseError as e:
        fail("dump is not well-formed: %s" % e)
    if root.get("data-error") is not None:
        fail("script error: " + root.get("data-error"))
    if root.get("data-ready") != "1":
        fail("script did not finish (no data-ready)")

    frames = []
    parent = {}
    for g in root.iter(NS + "g"):
        if g.get("class", "").split()[:1] != ["f"]:
            continue
        title = g.find(NS + "title").text
        name = re.sub(r" \([0-9,]+ [^(]*, [0-9.]+%\)$", "", title)
        frames.append((name, g))
    byname = {}
    for name, g in frames:
        byname.setdefault(name, g)

    def frame(name):
        if name not in byname:
            fail("no frame called %r" % name)
        return byname[name]

    frames_el = root.find(".//%sg[@id='frames']" % NS)
    zoomed = frames_el is not None and frames_el.get("class") == "zoomed"
    inner = float(root.get("width")) - 2 * float(root.get("data-xpad"))
    for arg in sys.argv[2:]:
        key, _, value = arg.partition("=")
        if key == "frames":
            if root.get("data-frames") != value or len(frames) != int(value):
                fail("expected %s frames, script saw %s, DOM has %d"
                     % (value, root.get("data-frames"), len(frames)))
        elif key == "zoomed":
            g = frame(value)
            w = float(g.find(NS + "rect").get("width"))
            if g.get("class") != "f in" or abs(w - inner) > 0.01 or not zoomed:
                fail("%r not zoomed: class %r width %s" % (value, g.get("class"), w))
            dimmed = [n for n, e in frames if "parent" in e.get("class").split()]
            if not dimmed or "all" not in dimmed:
                fail("ancestors not dimmed: %r" % dimmed)
            for n in dimmed:
                w = float(byname[n].find(NS + "rect").get("width"))
                if abs(w - inner) > 0.01:
                    fail("dimmed ancestor %r is %s px wide" % (n, w))
        elif key == "width":
            name, _, px = value.rpartition(":")
            w = float(frame(name).find(NS + "rect").get("width"))
            if abs(w - float(px)) > 0.01:
                fail("%r is %s px wide, expected %s" % (name, w, px))
        elif key == "hidden":
            # The stylesheet hides frames not marked "in" while zoomed.
            if not zoomed or "in" in frame(value).get("class").split():
                fail("%r is not hidden" % value)
        elif key == "matched":
            shown = "".join(root.find(".//%stext[@id='matched']" % NS).itertext())
            if shown != "Matched: %s%%" % value or root.get("data-matched") != value:
                fail("expected Matched: %s%%, page shows %r" % (value, shown))
        elif key == "unmatched":
            if root.get("data-matched") is not None:
                fail("a search is active: %s" % root.get("data-matched"))
        else:
            fail("unknown check " + arg)
    print("check_dom: ok " + " ".join(sys.argv[2:]))


main()
