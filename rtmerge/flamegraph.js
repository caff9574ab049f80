// SPDX-License-Identifier: GPL-2.0-only
// Interactivity for the SVG flamegraphs written by rtmerge/flamegraph.c.
// The frames are static groups (class f, attribute c: the count) holding a title, rect and text
// elements in depth-first order, so the picture works without script; this
// adds zoom, search and a details line.  State can be given in the URL
// fragment: #zoom=NAME (first frame of that name) and/or s=REGEX, both
// URI-encoded; the fragment follows the state as the user clicks.
"use strict";

function fg_init(evt) {
	var svg = document.documentElement;
	svg.removeAttribute("data-error");
	window.addEventListener("error", function (e) {
		svg.setAttribute("data-error", String(e.message));
	});

	var total = Number(svg.getAttribute("data-total"));
	var xpad = Number(svg.getAttribute("data-xpad"));
	var fontSize = Number(svg.getAttribute("data-fs"));
	var fontWidth = Number(svg.getAttribute("data-fw"));
	var inner = Number(svg.getAttribute("width")) - 2 * xpad;
	var framesEl = document.getElementById("frames");
	var details = document.getElementById("details");
	var matchedEl = document.getElementById("matched");
	var unzoomBtn = document.getElementById("unzoom");
	var searchBtn = document.getElementById("search");
	var HIGHLIGHT = "rgb(230,0,230)";

	function withCommas(n) {
		var s = String(n), out = "";
		for (var i = 0; i < s.length; i++) {
			if (i && (s.length - i) % 3 === 0)
				out += ",";
			out += s[i];
		}
		return out;
	}

	// Frames in document (depth-first) order; a subtree is frames[idx..end].
	// Built on first use, so a big graph opens as fast as a static picture;
	// what only some frames need (names, labels, colours) is read lazily.
	var frames = null;

	function build() {
		var open = [], rootY = null, fh = null;
		frames = [];
		for (var g = framesEl.firstElementChild; g; g = g.nextElementSibling) {
			if (!g.hasAttribute("c"))
				continue;
			var rect = g.firstElementChild.nextElementSibling;
			var y = Number(rect.getAttribute("y"));
			if (rootY === null) {
				rootY = y;
				fh = Number(rect.getAttribute("height")) + 1;
			}
			var f = {
				idx: frames.length, g: g, rect: rect, text: rect.nextElementSibling,
				count: Number(g.getAttribute("c")),
				x: Number(rect.getAttribute("x")), w: Number(rect.getAttribute("width")),
				depth: Math.round((rootY - y) / fh), parent: null, end: 0,
				name: null, fill: null, label0: null, tx0: null, lit: false
			};
			while (open.length > f.depth)
				open.pop().end = f.idx - 1;
			f.parent = open.length ? open[open.length - 1] : null;
			open.push(f);
			g.fgIndex = f.idx;
			frames.push(f);
		}
		while (open.length)
			open.pop().end = frames.length - 1;
		svg.setAttribute("data-frames", String(frames.length));
	}

	function ensureBuilt() {
		if (frames === null)
			build();
	}

	function titleOf(g) {
		return g.firstElementChild.textContent;
	}

	// The title is "name (N unit, P%)"; the count locates the suffix even
	// when the name itself holds parentheses.
	function nameOf(f) {
		if (f.name === null) {
			var t = titleOf(f.g);
			var cut = t.lastIndexOf(" (" + withCommas(f.count) + " ");
			f.name = cut >= 0 ? t.slice(0, cut) : t;
		}
		return f.name;
	}

	var zoomed = null;
	var searchRe = null, searchText = "";

	function frameOf(node) {
		ensureBuilt();
		for (; node && node !== framesEl; node = node.parentNode)
			if (node.fgIndex !== undefined)
				return frames[node.fgIndex];
		return null;
	}

	function groupOf(node) {
		for (; node && node !== framesEl; node = node.parentNode)
			if (node.getAttribute && node.getAttribute("class") !== null &&
			    node.getAttribute("class").split(" ")[0] === "f")
				return node;
		return null;
	}

	function label(f, w) {
		var n = w > 3 ? Math.floor((w - 3) / (fontSize * fontWidth)) : 0;
		if (n < 3)
			return "";
		var name = nameOf(f);
		if (name.length <= n)
			return name;
		var chars = Array.from(name);
		return chars.length <= n ? name : chars.slice(0, n - 2).join("") + "..";
	}

	function place(f, x, w, cls) {
		if (f.label0 === null) {
			f.label0 = f.text.textContent;
			f.tx0 = f.text.getAttribute("x");
		}
		f.g.setAttribute("class", cls);
		f.rect.setAttribute("x", x.toFixed(2));
		f.rect.setAttribute("width", w.toFixed(2));
		f.text.setAttribute("x", (x + 3).toFixed(2));
		f.text.textContent = label(f, w);
	}

	function updateFragment() {
		var parts = [];
		if (zoomed)
			parts.push("zoom=" + encodeURIComponent(nameOf(zoomed)));
		if (searchRe)
			parts.push("s=" + encodeURIComponent(searchText));
		try {
			history.replaceState(null, "", parts.length ? "#" + parts.join("&") :
					     location.pathname + location.search);
		} catch (e) {
			// Some viewers forbid history changes; the state still works.
		}
	}

	// While zoomed, #frames has class "zoomed" and CSS hides every frame not
	// marked "in"; only the frames shown are touched, so zooming costs the
	// size of the subtree, not of the graph.
	var shown = [];

	function restoreShown() {
		for (var i = 0; i < shown.length; i++) {
			var e = shown[i];
			e.g.setAttribute("class", "f");
			e.rect.setAttribute("x", e.x.toFixed(2));
			e.rect.setAttribute("width", e.w.toFixed(2));
			e.text.setAttribute("x", e.tx0);
			e.text.textContent = e.label0;
		}
		shown = [];
	}

	function zoom(f) {
		ensureBuilt();
		if (!f.parent) {
			unzoom();
			return;
		}
		restoreShown();
		zoomed = f;
		unzoomBtn.setAttribute("class", "btn");
		framesEl.setAttribute("class", "zoomed");
		var scale = inner / f.w;
		for (var a = f.parent; a; a = a.parent) {
			place(a, xpad, inner, "f in parent");
			shown.push(a);
		}
		for (var i = f.idx; i <= f.end; i++) {
			var e = frames[i];
			place(e, xpad + (e.x - f.x) * scale, e.w * scale, "f in");
			shown.push(e);
		}
		search(searchRe);
		updateFragment();
	}

	function unzoom() {
		zoomed = null;
		unzoomBtn.setAttribute("class", "btn off");
		framesEl.removeAttribute("class");
		restoreShown();
		search(searchRe);
		updateFragment();
	}

	// Matches are counted once: a match inside a matched frame adds nothing.
	// The percentage is of the zoomed frame, or of everything.
	function search(re) {
		ensureBuilt();
		searchRe = re;
		var lo = zoomed ? zoomed.idx : 0;
		var hi = zoomed ? zoomed.end : frames.length - 1;
		var base = zoomed ? zoomed.count : total;
		var sum = 0, coveredTo = -1;
		for (var i = 0; i < frames.length; i++) {
			var e = frames[i];
			var hit = re !== null && re.test(nameOf(e));
			if (hit !== e.lit) {
				if (e.fill === null)
					e.fill = e.rect.getAttribute("fill");
				e.rect.setAttribute("fill", hit ? HIGHLIGHT : e.fill);
				e.lit = hit;
			}
			if (hit && i >= lo && i <= hi && i > coveredTo) {
				sum += e.count;
				coveredTo = e.end;
			}
		}
		if (re) {
			var pct = base ? (100 * sum / base).toFixed(2) : "0.00";
			matchedEl.textContent = "Matched: " + pct + "%";
			svg.setAttribute("data-matched", pct);
			searchBtn.textContent = "Reset Search";
		} else {
			matchedEl.textContent = " ";
			svg.removeAttribute("data-matched");
			searchBtn.textContent = "Search";
		}
	}

	function startSearch(text) {
		if (text === null || text === "") {
			searchText = "";
			search(null);
			updateFragment();
			return;
		}
		var re, m = /^\/(.*)\/([imsu]*)$/.exec(text);
		try {
			// "/re/i" gives flags; anything else is the pattern itself.
			re = m ? new RegExp(m[1], m[2]) : new RegExp(text);
		} catch (e) {
			search(null);
			matchedEl.textContent = "Invalid regular expression";
			return;
		}
		searchText = text;
		search(re);
		updateFragment();
	}

	function askSearch() {
		var text = window.prompt("Search for (regular expression):", searchText);
		if (text !== null)
			startSearch(text);
	}

	framesEl.addEventListener("click", function (e) {
		var f = frameOf(e.target);
		if (f)
			zoom(f);
	});
	framesEl.addEventListener("mouseover", function (e) {
		var g = groupOf(e.target);
		if (g)
			details.textContent = "Function: " + titleOf(g);
	});
	framesEl.addEventListener("mouseout", function () {
		details.textContent = " ";
	});
	unzoomBtn.addEventListener("click", function () {
		if (zoomed)
			unzoom();
	});
	searchBtn.addEventListener("click", function () {
		if (searchRe)
			startSearch(null);
		else
			askSearch();
	});
	window.addEventListener("keydown", function (e) {
		if (e.key === "F3" || ((e.ctrlKey || e.metaKey) && (e.key === "f" || e.key === "F"))) {
			e.preventDefault();
			askSearch();
		} else if (e.key === "Escape" && searchRe) {
			startSearch(null);
		}
	});

	// State from the fragment; zoom goes through a real click event so the
	// browser test exercises the same path as a user.
	var params = {};
	location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
		var eq = kv.indexOf("=");
		if (eq <= 0)
			return;
		try {
			params[kv.slice(0, eq)] = decodeURIComponent(kv.slice(eq + 1));
		} catch (e) {
			// A malformed fragment is ignored, not fatal.
		}
	});
	if (params.zoom !== undefined) {
		ensureBuilt();
		for (var j = 0; j < frames.length; j++) {
			if (nameOf(frames[j]) === params.zoom) {
				frames[j].rect.dispatchEvent(new MouseEvent("click", { bubbles: true }));
				break;
			}
		}
	}
	if (params.s !== undefined)
		startSearch(params.s);
	openWhereStacksAre();
	svg.setAttribute("data-ready", "1");

	// A graph taller than the window opens with the level where the stacks
	// part (data-split-y, from the writer) near the bottom of the view, or at
	// the very bottom (the root, details and legend) when that is close, not
	// at the empty space above the deepest stacks.  The buttons and the
	// details line follow the scroll so search and zoom stay at hand.
	function openWhereStacksAre() {
		var height = Number(svg.getAttribute("height"));
		var splitY = Number(svg.getAttribute("data-split-y"));
		var view = window.innerHeight;
		if (!(height > view) || !(splitY >= 0))
			return;
		var bottom = splitY + 4 * fh();
		var top = height - bottom < view / 2 ? height - view : bottom - view;
		// Painted last, so the frames they float over do not take their clicks.
		svg.appendChild(unzoomBtn);
		svg.appendChild(searchBtn);
		window.addEventListener("scroll", pinControls);
		window.scrollTo(0, Math.max(0, Math.min(height - view, top)));
		pinControls();
	}

	function fh() {
		var r = framesEl.querySelector("rect");
		return r ? Number(r.getAttribute("height")) + 1 : 16;
	}

	function pinControls() {
		var y = window.scrollY, height = Number(svg.getAttribute("height"));
		var up = Math.min(0, y + window.innerHeight - height);
		unzoomBtn.setAttribute("transform", "translate(0," + y + ")");
		searchBtn.setAttribute("transform", "translate(0," + y + ")");
		details.setAttribute("transform", "translate(0," + up + ")");
		matchedEl.setAttribute("transform", "translate(0," + up + ")");
	}
}
