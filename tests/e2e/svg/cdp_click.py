# SPDX-License-Identifier: GPL-2.0-only
"""Drives the flamegraph like a person: real mouse and keyboard input.

Usage: cdp_click.py CHROMIUM SVG PROFILE_DIR FRAME REGEX EXPECT_PCT

Starts headless chromium with --remote-debugging-pipe, opens SVG, clicks
FRAME's box over its label (input events, so hit testing and the label's
pointer-events matter), checks FRAME then spans the width and the details
line names it, presses Ctrl-F, answers the prompt with REGEX, checks
"Matched: EXPECT_PCT%", then clicks Reset Zoom.  Exit 0 on success, 1 with
a reason.  CDP_DEBUG=1 logs the protocol traffic.
"""
import json
import os
import select
import signal
import subprocess
import sys
import time

DEADLINE = time.monotonic() + 60


def log(msg):
    if os.environ.get("CDP_DEBUG"):
        print("cdp_click: " + msg, file=sys.stderr)


def fail(msg):
    print("cdp_click: " + msg)
    sys.exit(1)


class Browser:
    def __init__(self, chromium, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def child_fds():
            # Copies first: the pipe ends may themselves be fds 3 and 4.
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + profile, "--remote-debugging-pipe",
             "--window-size=1200,300", "about:blank"],
            preexec_fn=child_fds, close_fds=False, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def close(self):
        """Kills the browser and every helper it started (its own process
        group), and waits until they are gone: a helper still running
        writes into the profile directory that the caller removes next."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def _read_message(self):
        while b"\0" not in self.buf:
            left = DEADLINE - time.monotonic()
            if left <= 0:
                fail("timed out waiting for the browser")
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_chrome, 65536)
            if not chunk:
                fail("browser closed the pipe")
            self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        log("<- " + msg[:200].decode(errors="replace"))
        return json.loads(msg)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def call(self, method, params=None, session=None):
        want = self.send(method, params, session)
        while True:
            msg = self._read_message()
            if msg.get("id") == want:
                if "error" in msg:
                    fail("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method):
        while True:
            for i, msg in enumerate(self.events):
                if msg.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read_message())


def main():
    chromium, svg, profile, frame, regex, expect = sys.argv[1:7]
    b = Browser(chromium, profile)
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        b.call("Page.enable", session=s)
        b.call("Runtime.enable", session=s)
        b.call("Page.navigate", {"url": "file://" + os.path.abspath(svg)}, session=s)
        b.wait_event("Page.loadEventFired")

        def js(expr):
            r = b.call("Runtime.evaluate", {"expression": expr, "returnByValue": True},
                       session=s)
            if "exceptionDetails" in r:
                fail("evaluating %s: %s" % (expr, r["exceptionDetails"]))
            return r["result"].get("value")

        state = "(function(){var d=document.documentElement;return {ready:d.getAttribute('data-ready'),error:d.getAttribute('data-error'),matched:d.getAttribute('data-matched')};})()"
        st = js(state)
        if st["ready"] != "1" or st["error"]:
            fail("script not ready: %r" % st)
        find = ("(function(n){var gs=document.querySelectorAll('#frames g');"
                "for(var i=0;i<gs.length;i++){var t=gs[i].firstElementChild.textContent;"
                "if(t.lastIndexOf(n+' (',0)===0){var r=gs[i].querySelector('rect');"
                "var b=r.getBoundingClientRect();return {x:b.x+Math.min(20,b.width/2),y:b.y+b.height/2,"
                "w:Number(r.getAttribute('width')),cls:gs[i].getAttribute('class')};}}"
                "return null;})(%s)" % json.dumps(frame))
        box = js(find)
        if not box:
            fail("no frame %r" % frame)
        inner = js("Number(document.documentElement.getAttribute('width'))-"
                   "2*Number(document.documentElement.getAttribute('data-xpad'))")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            b.call("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"],
                                                "button": "left", "clickCount": 1}, session=s)
        after = js(find)
        if abs(after["w"] - inner) > 0.01 or after["cls"] != "f in":
            fail("click did not zoom %r: before %r after %r" % (frame, box, after))
        details = js("document.getElementById('details').textContent")
        if not details.startswith("Function: " + frame + " ("):
            fail("hover details show %r" % details)
        if js("document.getElementById('unzoom').getAttribute('class')") != "btn":
            fail("Reset Zoom not shown after zoom")

        # The key event's reply only comes once the prompt it opens is closed.
        b.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", "key": "f", "code": "KeyF",
                                          "windowsVirtualKeyCode": 70, "modifiers": 2},
               session=s)
        b.wait_event("Page.javascriptDialogOpening")
        b.call("Page.handleJavaScriptDialog", {"accept": True, "promptText": regex}, session=s)
        b.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": "f", "code": "KeyF",
                                          "windowsVirtualKeyCode": 70, "modifiers": 2},
               session=s)
        st = js(state)
        shown = js("document.getElementById('matched').textContent")
        if st["matched"] != expect or shown != "Matched: %s%%" % expect or st["error"]:
            fail("search %r: expected %s%%, got %r / %r" % (regex, expect, st, shown))
        frag = js("location.hash")

        # Reset Zoom is a button too; clicking it restores the layout.
        btn = js("(function(){var b=document.getElementById('unzoom').getBoundingClientRect();"
                 "return {x:b.x+b.width/2,y:b.y+b.height/2};})()")
        for kind in ("mousePressed", "mouseReleased"):
            b.call("Input.dispatchMouseEvent", {"type": kind, "x": btn["x"], "y": btn["y"],
                                                "button": "left", "clickCount": 1}, session=s)
        reset = js(find)
        if abs(reset["w"] - box["w"]) > 0.01:
            fail("Reset Zoom left %r %s px wide, was %s" % (frame, reset["w"], box["w"]))
        print("cdp_click: ok: clicked %r, Ctrl-F %r -> %s, fragment %s" % (frame, regex, shown, frag))
    finally:
        b.close()


if __name__ == "__main__":
    main()
