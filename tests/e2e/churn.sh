#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Churn with known answers (Debian's python3.11, ruby3.1):
#   codereuse  functions made by exec() in a loop, used once and freed, so
#              code-object memory is reused: a sample naming func_I names
#              gen_I.py, never another function's file (zero tolerated);
#   threads    1,000 threads of ~3 ms each: every sample of a thread names
#              the function that thread ran (zero wrong), rooted at
#              threading's _bootstrap;
#   forks      fork without exec: each process shows only its own function;
#   names      a 5,000-character name (cut, marked "..."), a lone surrogate, non-ASCII text and a
#              file name with a newline, a tab and an escape: printed on one
#              line each, no control characters, rtmerge succeeds;
#   pidreuse   a Ruby process given the pid of a Python process that just
#              exited (ns_last_pid) during one `record -a`: no Python frame
#              under the Ruby process, no Ruby frame under the Python one.
#   flock -o /tmp/rtperf-e2e.lock bash tests/e2e/churn.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export RT_BUILD=${RT_BUILD:-$top/build}
source "$top/tests/e2e/lib.sh"
require_perf
RTBPF=$RT_BUILD/rt-bpf
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
[ -x "$RTBPF" ] || fail "$RTBPF not built"
PY=/usr/bin/python3.11
[ -x "$PY" ] || skip "no /usr/bin/python3.11"
RB=$(command -v ruby3.1) || skip "no ruby3.1"
dir=$top/tests/e2e/churn
cd "$E2E_TMP"
failed=0
bad() { echo "FAIL: $*" >&2; failed=1; }

record() { # name rt-bpf-args...
	local name=$1
	shift
	"$RTBPF" record -F 499 -o "$name.data" "$@" >"$name.out" 2>"$name.err" ||
		fail "$name: rt-bpf record: $(tail -3 "$name.err")"
}
fold() { # name rtmerge-args...
	local name=$1
	shift
	"$RTMERGE" -q "$@" "$name.data" >"$name.folded" 2>"$name.rtmerge" ||
		fail "$name: rtmerge: $(tail -3 "$name.rtmerge")"
}

# codereuse
record codereuse -- "$PY" "$dir/codereuse.py" 3
fold codereuse
read -r named wrong < <(awk '{ n = $NF
	s = $0
	while (match(s, /func_[0-9]+ \(gen_[0-9]+\.py/)) {
		f = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
		split(f, a, /[_ (.]+/)   # func N gen M py
		if (a[2] != a[4]) w += n
		c += n
	}
} END { printf "%d %d\n", c, w }' codereuse.folded)
nfunc=$(sed -n 's/^functions //p' codereuse.out)
echo "FIGURE churn codereuse: $nfunc functions made and freed in 3 s; $named frames name a generated function, $wrong name another function's file"
[ "$named" -ge 200 ] || bad "codereuse: only $named frames of generated functions"
[ "$wrong" -eq 0 ] || bad "codereuse: $wrong frames pair a function with another one's file"

# threads
record threads -- "$PY" "$dir/threads.py" "$E2E_TMP/threads.map" 1000
fold threads --tid
[ "$(wc -l <threads.map)" -eq 1000 ] || fail "threads: the workload did not run 1000 threads"
read -r total right wrong rooted < <(awk 'NR == FNR { k[$1] = $2; next }
	{ n = $NF; root = $0; sub(/;.*/, "", root); tid = root; sub(/.*\//, "", tid)
	  if (!match($0, /;work_[0-6] \(/)) next
	  w = substr($0, RSTART + 6, 1); t += n
	  if ((tid in k) && k[tid] == w) r += n; else x += n
	  if ($0 ~ /;(Thread\.)?_bootstrap \([^;]*threading\.py/) b += n }
	END { printf "%d %d %d %d\n", t, r, x, b }' threads.map threads.folded)
echo "FIGURE churn threads: 1000 threads of ~3 ms: $total samples in the work functions, $right on the thread that ran it, $wrong on another; $rooted rooted at threading's _bootstrap"
[ "$total" -ge 400 ] || bad "threads: only $total samples in the work functions"
[ "$wrong" -eq 0 ] || bad "threads: $wrong samples name a function another thread ran"
[ "$rooted" -eq "$total" ] || bad "threads: $((total - rooted)) samples not rooted at _bootstrap"

# forks
record forks -- "$PY" "$dir/forks.py" 1
fold forks --pid
read -r child parent mixed npids < <(awk '{ n = $NF; root = $0; sub(/;.*/, "", root)
	c = $0 ~ /;child_spin \(/; p = $0 ~ /;parent_spin \(/
	if (c) { cs += n; cp[root] = 1 } if (p) { ps += n; pp[root] = 1 }
	if (c && p) m += n }
	END { x = 0; for (r in cp) if (r in pp) x++
	      printf "%d %d %d %d\n", cs, ps, m + x, length(cp) + length(pp) }' forks.folded)
echo "FIGURE churn forks: child_spin $child samples, parent_spin $parent, in $npids processes; $mixed mixed"
[ "$child" -ge 100 ] && [ "$parent" -ge 100 ] || bad "forks: child $child, parent $parent samples"
[ "$mixed" -eq 0 ] && [ "$npids" -eq 2 ] || bad "forks: functions mixed between the two processes ($mixed, $npids pids)"

# names
record names -- "$PY" "$dir/names.py" 1.5
fold names
ctrl=$(LC_ALL=C grep -c '[[:cntrl:]]' names.folded)
malformed=$(LC_ALL=C grep -vcE ' [0-9]+$' names.folded)
long=$(folded_count names.folded ';long_x+\.\.\. \(')
uni=$(folded_count names.folded ';h\xc3\xa9llo_\xe6\xbc\xa2\xe5\xad\x97 \(')
sur=$(folded_count names.folded ';sur[^;]*rogate \(')
file=$(folded_count names.folded 'bad.file.name.\[31m\.py')
echo "FIGURE churn names: long $long, non-ASCII $uni, surrogate $sur samples; hostile file name $file; $ctrl lines with control characters, $malformed malformed"
[ "$ctrl" -eq 0 ] && [ "$malformed" -eq 0 ] || bad "names: $ctrl lines with control characters, $malformed malformed"
[ "$long" -ge 50 ] && [ "$uni" -ge 50 ] && [ "$sur" -ge 50 ] || bad "names: long $long, non-ASCII $uni, surrogate $sur samples"
[ "$file" -ge 150 ] || bad "names: the hostile file name is on $file samples"

# pidreuse
"$RTBPF" record -a -F 499 -d 8 -o pidreuse.data >pidreuse.out 2>pidreuse.err &
rt=$!
for i in $(seq 100); do pgrep -P $rt -x perf >/dev/null && break; sleep 0.05; done
sleep 0.5
ppid= rpid=
for try in 1 2 3 4 5; do
	"$PY" "$dir/reuse_py.py" 1 &
	p=$!
	wait $p
	echo $((p - 1)) >/proc/sys/kernel/ns_last_pid
	"$RB" "$dir/reuse_rb.rb" 1 &
	r=$!
	wait $r
	if [ "$r" -eq "$p" ]; then ppid=$p; rpid=$r; break; fi
	note "pidreuse: try $try: the pid went to another process ($p, then $r)"
done
wait $rt || fail "pidreuse: rt-bpf record failed: $(tail -3 pidreuse.err)"
[ -n "$ppid" ] || skip "pidreuse: another process took the pid five times"
fold pidreuse --pid
read -r pyok rbok pyrb rbpy < <(awk -v p="$ppid" '{ n = $NF; root = $0; sub(/;.*/, "", root)
	if (root !~ "-" p "$") next
	if (root ~ /^python/) { if ($0 ~ /;python_spin \(/) a += n; if ($0 ~ /\.rb:[0-9]+\)/) c += n }
	if (root ~ /^ruby/) { if ($0 ~ /;ruby_spin \(/) b += n; if ($0 ~ /\.py:[0-9]+\)/) d += n } }
	END { printf "%d %d %d %d\n", a, b, c, d }' pidreuse.folded)
echo "FIGURE churn pidreuse: pid $ppid: python_spin $pyok samples, then ruby_spin $rbok; Ruby frames under Python $pyrb, Python frames under Ruby $rbpy"
[ "$pyok" -ge 100 ] && [ "$rbok" -ge 100 ] || bad "pidreuse: python_spin $pyok, ruby_spin $rbok samples"
[ "$pyrb" -eq 0 ] && [ "$rbpy" -eq 0 ] || bad "pidreuse: frames of the old image under the new one"

[ $failed -eq 0 ] || exit 1
echo "churn: ok"
