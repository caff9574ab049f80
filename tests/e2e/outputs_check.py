# SPDX-License-Identifier: GPL-2.0-only
"""Checks rtmerge's speedscope and pprof files against its folded stacks.

outputs_check.py figures DIR: reads DIR/{folded,folded.period,ss.json,
ss.period.json,top.txt,top.cpu.txt,raw.txt} (the pprof text go tool pprof
printed) and checks that every total and per-function figure is equal.
outputs_check.py sandwich DOM FOLDED: reads speedscope's sandwich table
from a DOM dump and checks both functions' rows against the folded stacks.
outputs_check.py diff DIFF_FOLDED AFTER_FOLDED SVG: the differential
outputs.  Prints FIGURE lines; exits 1 on a mismatch.
"""
import html
import json
import re
import sys

HOT, COLD = "hot_seventy", "cold_thirty"
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def func(frame):
    """The function of a frame text: "f (file:12)" -> f."""
    m = re.match(r"^(.*) \([^()]*\)$", frame)
    return m.group(1) if m else frame


def load_folded(path):
    stacks = []
    for line in open(path):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        stacks.append((stack.split(";"), int(count)))
    return stacks


def figures(stacks, root=True):
    """total, and per function: inclusive and self counts."""
    total, incl, self_ = 0, {}, {}
    for frames, n in stacks:
        total += n
        names = [func(f) for f in (frames[1:] if root else frames)]
        for name in set(names):
            incl[name] = incl.get(name, 0) + n
        if names:
            self_[names[-1]] = self_.get(names[-1], 0) + n
    return total, incl, self_


def speedscope_stacks(path):
    doc = json.load(open(path))
    frames = doc["shared"]["frames"]
    out = []
    for prof in doc["profiles"]:
        assert prof["type"] == "sampled"
        for sample, w in zip(prof["samples"], prof["weights"]):
            out.append(([frames[i]["name"] for i in sample], w))
    return doc, out


def pprof_top(path):
    """total and {name: (flat, cum)} from go tool pprof -top."""
    text = open(path).read()
    m = re.search(r"of (\d+)(?:ns)? total", text)
    rows = {}
    for line in text.splitlines():
        p = line.split()
        if len(p) >= 6 and re.match(r"^\d+(ns)?$", p[0]) and p[1].endswith("%"):
            rows[" ".join(p[5:])] = (int(p[0].rstrip("ns")), int(p[3].rstrip("ns")))
    return int(m.group(1)) if m else -1, rows


def cmd_figures(d):
    folded = load_folded(d + "/folded")
    total, incl, self_ = figures(folded)
    ptotal, _, _ = figures(load_folded(d + "/folded.period"))
    for f in (HOT, COLD):
        check(all(sum(func(x) == f for x in s[1:]) <= 1 for s, _ in folded),
              f"{f} appears at most once per stack (so per-line rows add up)")
    split = incl[HOT] / (incl[HOT] + incl[COLD])
    print(f"folded: {total} samples, {HOT} {incl[HOT]} (self {self_.get(HOT, 0)}), "
          f"{COLD} {incl[COLD]} (self {self_.get(COLD, 0)}), split {split:.4f}")
    print(f"FIGURE outputs folded: {total} samples, {HOT} share "
          f"{split:.4f} of the two (expected about 0.70)")
    check(total >= 300, f"enough samples ({total})")
    check(0.6 <= split <= 0.8, f"split {split:.3f} within 0.6..0.8")

    # speedscope: weights by count, then by period in nanoseconds
    doc, ss = speedscope_stacks(d + "/ss.json")
    stotal, sincl, sself = figures(ss, root=False)
    check(stotal == total, f"speedscope total {stotal} == folded {total}")
    for f in (HOT, COLD):
        check(sincl.get(f) == incl[f], f"speedscope {f} inclusive {sincl.get(f)} == {incl[f]}")
        check(sself.get(f, 0) == self_.get(f, 0),
              f"speedscope {f} self {sself.get(f, 0)} == {self_.get(f, 0)}")
    names = [p["name"] for p in doc["profiles"]]
    check(bool(re.match(r"^python3\.11 \(\d+\)$", names[0])), f"profile named comm (TID): {names[0]}")
    hot_frames = [fr for fr in doc["shared"]["frames"] if fr["name"] == HOT]
    check(hot_frames and all(fr.get("file", "").endswith("py_7030.py") and fr.get("line", 0) > 0
                             for fr in hot_frames), f"{HOT} frames carry file and line: {hot_frames}")
    check(all(p["unit"] == "none" for p in doc["profiles"]), "unit none for counts")
    pdoc, pss = speedscope_stacks(d + "/ss.period.json")
    pt, _, _ = figures(pss, root=False)
    check(pt == ptotal, f"speedscope --period total {pt} == folded --period {ptotal}")
    check(all(p["unit"] == "nanoseconds" for p in pdoc["profiles"]), "unit nanoseconds by period")

    # pprof, as go tool pprof reads it
    t, rows = pprof_top(d + "/top.txt")
    check(t == total, f"pprof -top total {t} == folded {total}")
    for f in (HOT, COLD):
        flat, cum = rows.get(f, (None, None))
        check(cum == incl[f], f"pprof {f} cum {cum} == folded inclusive {incl[f]}")
        check(flat == self_.get(f, 0), f"pprof {f} flat {flat} == folded self {self_.get(f, 0)}")
    psplit = rows[HOT][1] / (rows[HOT][1] + rows[COLD][1]) if HOT in rows and COLD in rows else -1
    check(psplit == split, f"pprof split {psplit:.4f} == folded split {split:.4f}")
    print(f"FIGURE outputs pprof: {t} samples, {HOT} share {psplit:.4f} of the two")
    
    ct, _ = pprof_top(d + "/top.cpu.txt")
    check(ct == ptotal, f"pprof -sample_index=cpu total {ct} ns == folded --period {ptotal}")

    raw = open(d + "/raw.txt").read()
    samples = re.findall(r"^\s+(\d+)\s+(\d+): [\d ]*\n\s+comm:\[([^\]]*)\]\n\s+pid:\[(\d+)\] tid:\[(\d+)\]",
                         raw, re.M)
    rcount = sum(int(s[0]) for s in samples)
    rcpu = sum(int(s[1]) for s in samples)
    check(rcount == total, f"pprof -raw: {len(samples)} labelled samples, count {rcount} == {total}")
    check(rcpu == ptotal, f"pprof -raw: cpu {rcpu} == folded --period {ptotal}")
    check(all(s[2] == "python3.11" for s in samples), "every sample labelled comm python3.11")
    check(re.search(r"^\s+\d+: 0x0 " + HOT + r" \S*py_7030\.py:1[45] s=0$", raw, re.M) is not None,
          f"-raw lists a location of {HOT} with file and line")
    check(re.search(r"^\d+: 0x0/0x0/0x0 \S*libpython3\.11\S* [0-9a-f]{40} \[FN\]$", raw, re.M)
          is not None or re.search(r"^\d+: 0x0/0x0/0x0 \S*/python3\.11\S* [0-9a-f]{40} \[FN\]$", raw, re.M)
          is not None, "-raw lists the interpreter's mapping with its build id")


def cmd_sandwich(dom_path, folded_path):
    """speedscope's sandwich view: a row per frame, "TOTAL (P%)", "SELF (P%)", name."""
    dom = open(dom_path).read()
    total, incl, self_ = figures(load_folded(folded_path))
    title = re.search(r"<title>([^<]*)</title>", dom)
    check(title is not None and "speedscope" in title.group(1), f"title {title and title.group(1)}")
    rows = re.findall(r'<tr class="[^"]*"><td[^>]*>([^<]*)<div.*?</td><td[^>]*>([^<]*)<div.*?</td>'
                      r'<td[^>]*><span[^>]*></span>([^<]*)</td></tr>', dom)
    seen = {}
    for tot, slf, name in rows:
        name = html.unescape(name)
        val = lambda s: int(s.split(" (")[0].replace(",", ""))
        t, s = seen.get(name, (0, 0))
        seen[name] = (t + val(tot), s + val(slf))
    print(f"sandwich rows: {len(rows)}; {HOT} {seen.get(HOT)}, {COLD} {seen.get(COLD)}")
    for f in (HOT, COLD):
        check(f in seen, f"speedscope shows {f}")
        check(seen.get(f, (0, 0))[0] == incl[f], f"{f}: total {seen.get(f)} == folded {incl[f]}")
        check(seen.get(f, (0, 0))[1] == self_.get(f, 0), f"{f}: self == folded {self_.get(f, 0)}")
    order = [html.unescape(r[2]) for r in rows]
    if HOT in order and COLD in order:
        check(order.index(HOT) < order.index(COLD), f"{HOT} listed before {COLD}")


def fill(svg, name):
    """The colour of @name's largest frame: a function has a frame per
    line and per path, and a rarely hit one may have moved the other way."""
    best = None
    for m in re.finditer(r'<g class="f" c="(\d+)"><title>' + name +
                         r' \(.*?fill="rgb\((\d+),(\d+),(\d+)\)"', svg):
        count = int(m.group(1))
        if best is None or count > best[0]:
            best = (count, tuple(int(x) for x in m.groups()[1:]))
    return best[1] if best else None


def cmd_diff(diff_path, after_path, svg_path):
    after_total, after_incl, _ = figures(load_folded(after_path))
    before = after = bhot = ahot = 0
    for line in open(diff_path):
        stack, b, a = line.rsplit(" ", 2)
        before += int(b)
        after += int(a)
        if any(func(f) == HOT for f in stack.split(";")):
            bhot += int(b)
            ahot += int(a)
    nlines = sum(1 for _ in open(diff_path))
    check(after == after_total, f"diff AFTER column {after} == AFTER's folded total {after_total}")
    check(abs(before - after_total) <= nlines, f"diff BEFORE column {before} scaled to {after_total}")
    check(ahot == after_incl[HOT], f"{HOT} AFTER {ahot} == folded {after_incl[HOT]}")
    print(f"FIGURE outputs diff: {HOT} share {bhot / before:.3f} before, {ahot / after:.3f} after")
    check(bhot > 1.5 * ahot, f"{HOT} shrank: {bhot} -> {ahot}")
    svg = open(svg_path).read()
    hot, cold = fill(svg, HOT), fill(svg, COLD)
    print(f"diff svg fills: {HOT} {hot}, {COLD} {cold}")
    check(hot is not None and hot[2] == 255 and hot[0] < 200, f"{HOT} drawn blue: {hot}")
    check(cold is not None and cold[0] == 255 and cold[2] < 200, f"{COLD} drawn red: {cold}")
    check(">grew</text>" in svg and ">shrank</text>" in svg, "legend says grew and shrank")


if __name__ == "__main__":
    {"figures": cmd_figures, "sandwich": cmd_sandwich, "diff": cmd_diff}[sys.argv[1]](*sys.argv[2:])
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
