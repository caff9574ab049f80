#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf top in a real terminal (tmux: send-keys, capture-pane) on a 70/30
# Python program (Debian's python3.11): spin_seventy does 7 units of work
# for spin_thirty's 3, each in its own loop.  The screen must show both,
# the larger first, with spin_seventy's share of the two near 0.7 by own
# and by total share; the keys must work: t/o sort by total/own (the
# column is then in order), p pauses (the screen stays as it was) and
# resumes, f filters the hottest thread and a shows all again, i keeps
# interpreter functions only (own then covers the native code each one
# runs: again near 0.7), w switches to the last second, q quits (rt-bpf
# exits 0 and stops the command).
. "$(dirname "$0")/lib.sh"
RT_BPF=$RT_BUILD/rt-bpf
PY=/usr/bin/python3.11
W=$RT_TOP/tests/e2e/workloads/py_top_split.py

[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, perf events)"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
command -v tmux >/dev/null || skip "tmux is not installed"
[ -x "$PY" ] || skip "$PY is not installed"
[ -x "$RT_BPF" ] || fail "$RT_BPF not built"

S=rtperf-top-$$
STATUS=$E2E_TMP/status
SCREEN=$E2E_TMP/screen
# Killing the session hangs rt-bpf top up: it stops the command itself.
cleanup() {
	tmux kill-session -t "$S" 2>/dev/null
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT

capture() { tmux capture-pane -p -t "$S" >"$SCREEN"; }
# header_has TEXT: the first line of the screen holds TEXT
header_has() { capture; head -n 1 "$SCREEN" | grep -qF -- "$1"; }
# the screen's figures as "key value" lines (python reads the rows)
figures() {
	capture
	python3 - "$SCREEN" <<'PY'
import re, sys
rows, head = [], open(sys.argv[1]).read().splitlines()
samples = 0
for line in head:
    m = re.match(r"samples: (\d+)", line)
    if m:
        samples = int(m.group(1))
    m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+(\d+)\s+(\d+)  (.*)$", line)
    if m:
        rows.append((int(m.group(3)), int(m.group(4)), m.group(5)))
def find(name):
    for i, r in enumerate(rows):
        if r[2].startswith(name + " ("):
            return i, r
    return -1, (0, 0, "")
ia, a = find("spin_seventy")
ib, b = find("spin_thirty")
own_sorted = all(rows[i][0] >= rows[i + 1][0] for i in range(len(rows) - 1))
total_sorted = all(rows[i][1] >= rows[i + 1][1] for i in range(len(rows) - 1))
print("samples", samples)
print("rows", len(rows))
print("seventy_index", ia)
print("thirty_index", ib)
print("seventy_own", a[0])
print("thirty_own", b[0])
print("seventy_total", a[1])
print("thirty_total", b[1])
m = re.search(r"py_top_split\.py:(\d+)\)$", a[2])
print("seventy_line", m.group(1) if m else 0)
print("own_sorted", int(own_sorted))
print("total_sorted", int(total_sorted))
PY
}
fig() { figures | awk -v k="$1" '$1 == k { print $2 }'; }
enough() { [ "$(fig thirty_total)" -ge 150 ] 2>/dev/null; }

tmux new-session -d -s "$S" -x 200 -y 50 \
	"$RT_BPF top -F 499 -- $PY $W 50; echo \$? >$STATUS; sleep 60" ||
	fail "tmux did not start"
wait_for 30 enough || { cat "$SCREEN"; fail "spin_thirty never reached 150 samples on the screen"; }
figures >"$E2E_TMP/own.txt"
cat "$SCREEN"

# sorted by own (the default): both functions, the larger first
. <(awk '{ print "own_" $1 "=" $2 }' "$E2E_TMP/own.txt")
[ "$own_seventy_index" -ge 0 ] && [ "$own_thirty_index" -ge 0 ] || fail "a function is missing"
[ "$own_seventy_index" -lt "$own_thirty_index" ] || fail "spin_thirty shown before spin_seventy by own"
[ "$own_own_sorted" = 1 ] || fail "the Own column is not in order"
[ "$own_seventy_line" = 14 ] || fail "spin_seventy's line is not its loop (14): $own_seventy_line"
own_share=$(awk -v a="$own_seventy_own" -v b="$own_thirty_own" 'BEGIN { printf "%.3f", a / (a + b) }')
echo "FIGURE top split: spin_seventy's own share of the two $own_share (expected 0.70)"

# t: by total; <module> and main lead, the two keep their order
tmux send-keys -t "$S" t
wait_for 5 header_has "sort: total" || fail "t did not sort by total"
sleep 1.2
figures >"$E2E_TMP/total.txt"
. <(awk '{ print "tot_" $1 "=" $2 }' "$E2E_TMP/total.txt")
[ "$tot_total_sorted" = 1 ] || { cat "$SCREEN"; fail "the Total column is not in order"; }
[ "$tot_seventy_index" -ge 0 ] && [ "$tot_seventy_index" -lt "$tot_thirty_index" ] ||
	fail "spin_thirty shown before spin_seventy by total"
total_share=$(awk -v a="$tot_seventy_total" -v b="$tot_thirty_total" 'BEGIN { printf "%.3f", a / (a + b) }')
echo "FIGURE top split: spin_seventy's total share of the two $total_share (expected 0.70)"
for s in "$own_share" "$total_share"; do
	awk -v s="$s" 'BEGIN { exit !(s >= 0.60 && s <= 0.80) }' ||
		fail "spin_seventy's share $s is outside 0.60-0.80"
done

# o: back to own
tmux send-keys -t "$S" o
wait_for 5 header_has "sort: own" || fail "o did not sort by own"

# p: paused, the rows stay; p again: they move on
tmux send-keys -t "$S" p
wait_for 5 header_has "PAUSED" || fail "p did not pause"
capture; cp "$SCREEN" "$E2E_TMP/paused1"
sleep 2.5
capture
cmp -s "$SCREEN" "$E2E_TMP/paused1" || { diff "$E2E_TMP/paused1" "$SCREEN"; fail "the screen changed while paused"; }
paused_samples=$(fig samples)
tmux send-keys -t "$S" p
wait_for 5 header_has "since start" || fail "p did not resume"
sleep 1.5
[ "$(fig samples)" -gt "$paused_samples" ] || fail "samples did not grow after resuming"

# f: the hottest thread (the only one: python3.11); a: every thread
tmux send-keys -t "$S" f
wait_for 5 header_has "thread " || fail "f did not filter by thread"
header_has "(python3.11)" || { head -n 1 "$SCREEN"; fail "the filtered thread is not python3.11's"; }
sleep 1.2
[ "$(fig seventy_index)" -ge 0 ] || fail "spin_seventy missing from its thread's view"
tmux send-keys -t "$S" a
wait_for 5 header_has "all threads" || fail "a did not show every thread"

# i: interpreter functions only, own going to the leafmost of them: the
# two functions' own shares are their whole time, no native row is left
tmux send-keys -t "$S" i
wait_for 5 header_has "interpreter functions" || fail "i did not show interpreter functions only"
sleep 1.2
figures >"$E2E_TMP/interp.txt"
. <(awk '{ print "int_" $1 "=" $2 }' "$E2E_TMP/interp.txt")
grep -qE '  (\[python3|PyObject_)' "$SCREEN" && { cat "$SCREEN"; fail "native rows shown with i"; }
[ "$int_seventy_index" -ge 0 ] && [ "$int_seventy_index" -lt "$int_thirty_index" ] ||
	fail "spin_thirty shown before spin_seventy with i"
interp_share=$(awk -v a="$int_seventy_own" -v b="$int_thirty_own" 'BEGIN { printf "%.3f", a / (a + b) }')
echo "FIGURE top split: spin_seventy's own share of the two, interpreter functions only $interp_share (expected 0.70)"
awk -v s="$interp_share" 'BEGIN { exit !(s >= 0.60 && s <= 0.80) }' ||
	fail "spin_seventy's own share with i $interp_share is outside 0.60-0.80"
# own covers the native code each calls: nearly its total
awk -v o="$int_seventy_own" -v t="$int_seventy_total" 'BEGIN { exit !(o >= 0.95 * t) }' ||
	fail "spin_seventy's own $int_seventy_own is not its total $int_seventy_total with i"
tmux send-keys -t "$S" i
wait_for 5 header_has "all frames" || fail "i did not go back to all frames"

# w: the last second
tmux send-keys -t "$S" w
wait_for 5 header_has "last second" || fail "w did not switch to the last second"
sleep 1.5
last=$(fig samples)
[ "$last" -gt 0 ] && [ "$last" -lt "$paused_samples" ] ||
	fail "the last second shows $last samples (since the start: more than $paused_samples)"

# q: rt-bpf exits 0 and the command is stopped
tmux send-keys -t "$S" q
wait_for 10 test -s "$STATUS" || fail "q did not end rt-bpf top"
[ "$(cat "$STATUS")" = 0 ] || fail "rt-bpf top exited with $(cat "$STATUS")"
wait_for 5 sh -c "! pgrep -f '^$PY $W' >/dev/null" || fail "the command still runs after q"
echo "ok: rt-bpf top showed the 70/30 split in order; t, o, p, f, a, i, w and q work"
