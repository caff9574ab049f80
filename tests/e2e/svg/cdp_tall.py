# SPDX-License-Identifier: GPL-2.0-only
"""Where a tall SVG flamegraph opens.

Usage: cdp_tall.py CHROMIUM SVG PROFILE_DIR VIEW_HEIGHT SHOWN [HIDDEN]

Opens SVG in headless chromium at 1200 x VIEW_HEIGHT and checks that the
frame named SHOWN is inside the window, that HIDDEN (if given) is not, and
that Search, Reset Zoom and the details line are inside the window too.
Then hovers SHOWN (the details line names it) and clicks Search's place
(the prompt opens).  Prints where the view opened.  Exit 0 or 1 with a
reason.
"""
import json
import os
import sys

from cdp_click import Browser, fail


def main():
    chromium, svg, profile, view, shown = sys.argv[1:6]
    hidden = sys.argv[6] if len(sys.argv) > 6 else None
    view = int(view)
    b = Browser(chromium, profile)
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        b.call("Page.enable", session=s)
        b.call("Runtime.enable", session=s)
        b.call("Emulation.setDeviceMetricsOverride", {"width": 1200, "height": view,
                                                      "deviceScaleFactor": 1, "mobile": False},
               session=s)
        b.call("Page.navigate", {"url": "file://" + os.path.abspath(svg)}, session=s)
        b.wait_event("Page.loadEventFired")

        def js(expr):
            r = b.call("Runtime.evaluate", {"expression": expr, "returnByValue": True},
                       session=s)
            if "exceptionDetails" in r:
                fail("evaluating %s: %s" % (expr, r["exceptionDetails"]))
            return r["result"].get("value")

        if js("document.documentElement.getAttribute('data-ready')") != "1":
            fail("script not ready: %r" % js("document.documentElement.getAttribute('data-error')"))
        box = ("(function(n){var gs=document.querySelectorAll('#frames g');"
               "for(var i=0;i<gs.length;i++){if(gs[i].firstElementChild.textContent"
               ".lastIndexOf(n+' (',0)===0){var b=gs[i].querySelector('rect')"
               ".getBoundingClientRect();return {x:b.x+2,y:b.y,h:b.height};}}return null;})(%s)")
        el = ("(function(id){var b=document.getElementById(id).getBoundingClientRect();"
              "return {x:b.x+b.width/2,y:b.y,h:b.height};})(%s)")
        inside = lambda r: r is not None and r["y"] >= 0 and r["y"] + r["h"] <= view
        scroll = js("window.scrollY")
        height = js("Number(document.documentElement.getAttribute('height'))")
        print("cdp_tall: %s: %s px tall, opened at scrollY %s in a %d px window" %
              (os.path.basename(svg), height, scroll, view))
        a = js(box % json.dumps(shown))
        if not inside(a):
            fail("%s is not in view: %r" % (shown, a))
        if hidden and inside(js(box % json.dumps(hidden))):
            fail("%s is in view; expected the view elsewhere" % hidden)
        b.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": a["x"],
                                            "y": a["y"] + a["h"] / 2}, session=s)
        details = js("document.getElementById('details').textContent")
        if not details.startswith("Function: " + shown + " ("):
            fail("hovering %s shows %r" % (shown, details))
        # (the details line has a box only while it shows something)
        for ident in ("search", "unzoom", "details"):
            if not inside(js(el % json.dumps(ident))):
                fail("#%s is out of view: %r" % (ident, js(el % json.dumps(ident))))
        btn = js(el % json.dumps("search"))
        at = {"x": btn["x"], "y": btn["y"] + btn["h"] / 2, "button": "left", "clickCount": 1}
        b.call("Input.dispatchMouseEvent", dict(at, type="mousePressed"), session=s)
        # The release's reply only comes once the prompt it opens is closed.
        b.send("Input.dispatchMouseEvent", dict(at, type="mouseReleased"), session=s)
        b.wait_event("Page.javascriptDialogOpening")
        b.call("Page.handleJavaScriptDialog", {"accept": False}, session=s)
        print("cdp_tall: ok: %s in view, hover and Search work" % shown)
    finally:
        b.close()


if __name__ == "__main__":
    main()
