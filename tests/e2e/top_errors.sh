#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf top's command that cannot run, in an 80-column terminal (tmux):
# one missing from PATH fails before the view; one whose exec fails once
# started (its interpreter is missing) is the first thing the header says,
# and rt-bpf exits 127 after q; top writes no file, so its summary never
# speaks of one.  About 10 s.
. "$(dirname "$0")/lib.sh"
RT_BPF=$RT_BUILD/rt-bpf

[ "$(id -u)" -eq 0 ] || skip "needs root (BPF, perf events)"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
command -v tmux >/dev/null || skip "tmux is not installed"
[ -x "$RT_BPF" ] || fail "$RT_BPF not built"

S=rtperf-top-errors-$$
trap 'tmux kill-session -t "$S" 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
printf '#!/nonexistent/interpreter\n' >"$E2E_TMP/badinterp"
chmod +x "$E2E_TMP/badinterp"

# top_in_tmux NAME ARGS...: starts rt-bpf top ARGS in an 80x24 terminal;
# its exit status goes to NAME.status, its stderr to NAME.err
top_in_tmux() {
	local name=$1; shift
	tmux kill-session -t "$S" 2>/dev/null
	rm -f "$E2E_TMP/$name.status"
	tmux new-session -d -s "$S" -x 80 -y 24 \
		"$RT_BPF top $* 2>$E2E_TMP/$name.err; echo \$? >$E2E_TMP/$name.status; sleep 60" ||
		fail "tmux did not start"
}
first_line() { tmux capture-pane -p -t "$S" | head -n 1 >"$E2E_TMP/line"; grep -qF -- "$1" "$E2E_TMP/line"; }
# quit NAME: q, then rt-bpf top's exit status
quit() {
	tmux send-keys -t "$S" q
	wait_for 10 test -s "$E2E_TMP/$1.status" || fail "q did not end rt-bpf top ($1)"
	cat "$E2E_TMP/$1.status"
}

top_in_tmux missing -- /nonexistent
wait_for 10 test -s "$E2E_TMP/missing.status" || fail "top -- /nonexistent did not end"
[ "$(cat "$E2E_TMP/missing.status")" = 1 ] || fail "top -- /nonexistent exited $(cat "$E2E_TMP/missing.status")"
[ "$(cat "$E2E_TMP/missing.err")" = "rt-bpf: cannot run /nonexistent: No such file or directory" ] ||
	{ cat "$E2E_TMP/missing.err"; fail "top -- /nonexistent did not say it in one line"; }
note "top -- /nonexistent: $(cat "$E2E_TMP/missing.err")"

top_in_tmux badinterp -- "$E2E_TMP/badinterp"
wait_for 15 first_line "cannot run $E2E_TMP/badinterp" ||
	{ cat "$E2E_TMP/line"; fail "the header's first 80 columns do not say the command could not run"; }
note "header: $(cat "$E2E_TMP/line")"
rc=$(quit badinterp)
[ "$rc" = 127 ] || fail "top of a command that could not run exited $rc after q"
grep -q "^rt-bpf: cannot run $E2E_TMP/badinterp: No such file or directory$" "$E2E_TMP/badinterp.err" ||
	{ cat "$E2E_TMP/badinterp.err"; fail "no 'cannot run' after the view"; }
! grep -Eq 'no Python or Ruby|the file' "$E2E_TMP/badinterp.err" ||
	{ cat "$E2E_TMP/badinterp.err"; fail "a warning about interpreters or a file after a command that never ran"; }

top_in_tmux ran -- true
wait_for 15 first_line "the command exited" || { cat "$E2E_TMP/line"; fail "top -- true: no 'the command exited'"; }
rc=$(quit ran)
[ "$rc" = 0 ] || fail "top -- true exited $rc after q"
! grep -q 'the file' "$E2E_TMP/ran.err" || { cat "$E2E_TMP/ran.err"; fail "top speaks of a file"; }
grep -q 'the view showed native stacks only' "$E2E_TMP/ran.err" ||
	{ cat "$E2E_TMP/ran.err"; fail "top -- true: no warning about the native-only view"; }
echo "ok: rt-bpf top says a command that cannot run first, and exits non-zero"
