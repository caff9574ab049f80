# SPDX-License-Identifier: GPL-2.0-only
# The call-heavy Ruby program of tests/bench/rb_trace_overhead.sh: fib(N)
# by plain recursion, timed inside the program; prints the seconds and the
# events recorded.  --calls: a TracePoint (:call, :return) appends each
# event to an array (the calls and returns rt-bpf's fallback records);
# --all: the same with :c_call and :c_return too; --wait FILE: starts once
# FILE exists (a tracer attaching with -p first).
def fib(n)
  n < 2 ? n : fib(n - 1) + fib(n - 2)
end

n = Integer(ARGV[0] || 22)
mode = ARGV[1]
sleep 0.01 until File.exist?(ARGV[2]) if mode == "--wait"
log = []
events = { "--calls" => %i[call return], "--all" => %i[call return c_call c_return] }[mode]
tp = events && TracePoint.new(*events) { |t| log << [t.event, t.method_id] }
t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
tp ? tp.enable { fib(n) } : fib(n)
t1 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
$stdout.write(format("%.6f %d\n", t1 - t0, log.size))
