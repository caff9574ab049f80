# SPDX-License-Identifier: GPL-2.0-only
"""Reads speedscope's rendered flame chart back by pointing at it.

Usage: speedscope_hover.py CHROMIUM APP_HTML PROFILE_JS FOLDED PROFILE_DIR FUNCTION...

The flame chart is drawn on a canvas, so its names are no text in the
page.  Speedscope shows the frame under the mouse in a tooltip, though:
this lays the folded stacks out as speedscope's left-heavy view does (one
call tree, heavier children left, widths by weight over the canvas width),
takes each FUNCTION's widest node there, moves the mouse (real input
events) down the column at that node's centre and checks that the tooltip
names FUNCTION with exactly the node's weight: the chart shows what the
folded stacks say, where they say it.  Exit 0 on success, 1 with a reason.
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "svg"))
from cdp_click import Browser, fail  # noqa: E402


def left_heavy(folded):
    """Nodes (depth, start, weight, frame) of the left-heavy layout."""
    root = {"w": 0, "kids": {}}
    for line in open(folded):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        frames = stack.split(";")
        frames = frames[1:] if len(frames) > 1 else frames  # the thread root is the profile
        n = int(count)
        root["w"] += n
        node = root
        for f in frames:
            node = node["kids"].setdefault(f, {"w": 0, "kids": {}})
            node["w"] += n
    out = []

    def walk(node, depth, start):
        for name, kid in sorted(node["kids"].items(), key=lambda kv: -kv[1]["w"]):
            out.append((depth, start, kid["w"], name))
            walk(kid, depth + 1, start)
            start += kid["w"]
    walk(root, 0, 0)
    return root["w"], out


def main():
    chromium, app, profile_js, folded, profile_dir = sys.argv[1:6]
    functions = sys.argv[6:]
    total, nodes = left_heavy(folded)
    width, height = 1200, 900
    b = Browser(chromium, profile_dir)
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        b.call("Page.enable", session=s)
        b.call("Runtime.enable", session=s)
        b.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                      "deviceScaleFactor": 1, "mobile": False},
               session=s)
        b.call("Page.navigate", {"url": "file://%s#localProfilePath=%s&view=left-heavy" %
                                 (app, profile_js)}, session=s)
        b.wait_event("Page.loadEventFired")

        def js(expr):
            r = b.call("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=s)
            return r["result"].get("value")

        # The chart: the largest canvas below the minimap, once the profile loaded.
        chart = None
        for _ in range(50):
            rects = js("JSON.stringify(Array.from(document.querySelectorAll('canvas'))"
                       ".map(function(c){var r=c.getBoundingClientRect();"
                       "return [r.x,r.y,r.width,r.height];}))")
            rects = [r for r in json.loads(rects or "[]") if r[1] > 0 and r[2] > 0]
            if len(rects) >= 2 and "speedscope" in (js("document.title") or ""):
                chart = max(rects[1:], key=lambda r: r[2] * r[3])
                break
            time.sleep(0.1)
        if not chart:
            fail("speedscope did not show a flame chart (title %r)" % js("document.title"))
        x0, y0, cw, ch = chart
        base = js("document.body.innerText")
        for func in functions:
            mine = [n for n in nodes if re.match(re.escape(func) + r"( \(|$)", n[3])]
            if not mine:
                fail("%s is in no folded stack" % func)
            depth, start, weight, frame = max(mine, key=lambda n: n[2])
            x = x0 + (start + weight / 2) * cw / total
            want = "%d (" % weight
            seen = []
            for y in range(int(y0) + 2, int(y0 + ch) - 2, 5):
                b.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y},
                       session=s)
                text = js("document.body.innerText")
                tip = text.replace(base, "", 1).strip() if text.startswith(base) else text
                first = tip.split("\n")[0] if tip else ""
                if first and (not seen or seen[-1] != first):
                    seen.append(first)
                if first.startswith(want) and first.endswith(") " + func):
                    print("speedscope_hover: %s: tooltip %r at x=%.0f y=%d (depth %d; folded: "
                          "%d of %d)" % (func, first, x, y, depth, weight, total))
                    break
            else:
                fail("no tooltip \"%s...%s\" at x=%.0f; the column showed %r" %
                     (want, func, x, seen))
    finally:
        b.close()


if __name__ == "__main__":
    main()
