#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rt-bpf on Ruby processes it did not start: record -p PID of a running
# ruby3.1, attach to a running perf record, and the message for a Ruby
# version without a layout.
. "$(dirname "$0")/workloads/rb_common.bash"
rb_require
W=$WORKLOADS/rb_split.rb

branch_a_samples() { # folded file
	python3 - "$1" "$WORKLOADS" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import rb_folded
n = 0
for root, fr, c in rb_folded.read(sys.argv[1]):
    rb = [(f[0], f[2]) for f in fr if (f[1] or "").endswith("rb_split.rb")]
    if rb[:2] == [("<main>", 23), ("branch_a", 14)] and rb[2:3] and rb[2][0] == "work":
        n += c
print(n)
PY
}

# record -p on a process that runs already (its names were interned long ago)
"$RUBY" "$W" 5 & rpid=$!
sleep 1
timeout 30 "$RTBPF" record -F 199 -p "$rpid" -o "$E2E_TMP/p.data" >"$E2E_TMP/p.log" 2>&1 ||
	{ cat "$E2E_TMP/p.log" >&2; fail "record -p failed"; }
wait "$rpid"
"$RTMERGE" -q -o "$E2E_TMP/p.txt" "$E2E_TMP/p.data" || fail "rtmerge failed"
n=$(branch_a_samples "$E2E_TMP/p.txt")
echo "record -p: $n samples in <main> > branch_a > work"
[ "$n" -ge 100 ] || fail "record -p: only $n branch_a samples"

# attach to a running perf record -a
perf record -a -g -k mono -e cpu-clock -F 199 -e 'bpf-output/no-inherit,name=rt/' \
	-o "$E2E_TMP/att.data" -- sleep 4 >/dev/null 2>"$E2E_TMP/perf.err" & perfpid=$!
sleep 1
"$RTBPF" attach --perf-pid "$perfpid" 2>"$E2E_TMP/att.err" & apid=$!
sleep 0.5
"$RUBY" "$W" 2
wait "$perfpid"
wait "$apid" || fail "rt-bpf attach failed: $(cat "$E2E_TMP/att.err")"
"$RTMERGE" -q -o "$E2E_TMP/att.txt" "$E2E_TMP/att.data" || fail "rtmerge failed"
n=$(branch_a_samples "$E2E_TMP/att.txt")
echo "attach: $n samples in <main> > branch_a > work"
[ "$n" -ge 100 ] || fail "attach: only $n branch_a samples"

# a "Ruby" whose library says it is 9.9.0: named, with how to add a layout
cat >"$E2E_TMP/rb99.c" <<'EOF2'
const char ruby_version[] = "9.9.0";
void *ruby_current_vm_ptr;
int main(void) { volatile int x = 0; for (;;) x++; }
EOF2
cc -O0 -rdynamic -o "$E2E_TMP/ruby9.9" "$E2E_TMP/rb99.c" || fail "build fake ruby"
"$E2E_TMP/ruby9.9" & fpid=$!
sleep 0.3
"$RTBPF" record -p "$fpid" >"$E2E_TMP/out" 2>"$E2E_TMP/err"
rc=$?
kill "$fpid"
[ "$rc" -ne 0 ] || fail "record -p of Ruby 9.9.0 exited 0"
grep -q "Ruby 9\.9\.0.*no layout for it (have: 2\.7, 3\.1, 3\.3).*docs/ruby\.md" "$E2E_TMP/err" ||
	fail "unknown version said: $(cat "$E2E_TMP/err")"
echo "ok: $(head -1 "$E2E_TMP/err")"
