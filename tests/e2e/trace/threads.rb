# SPDX-License-Identifier: GPL-2.0-only
# tests/e2e/trace_rb33.sh's threads: two threads besides the main one, each
# running a recursion that calls a C method (Array#sum) at every level.
# With --tracepoint FILE it logs every thread's calls and returns, each
# line with its thread; with --wait FILE the threads start their work once
# FILE exists (a tracer attaching with -p first).

def step(k)
  [k].sum
end

def work(n)
  return 0 if n <= 0
  step(n) + work(n - 1)
end

def worker(n, go)
  sleep 0.01 until go.nil? || File.exist?(go)
  work(n)
end

def main(go)
  threads = [3, 5].map { |n| Thread.new { worker(n, go) } }
  total = threads.map(&:value).sum + work(2)
  $stdout.write("total #{total}\n")
end

if ARGV[0] == "--tracepoint"
  log = []
  tp = TracePoint.new(:call, :return, :c_call, :c_return) do |t|
    log << [Thread.current.object_id, t.event, t.defined_class, t.method_id]
  end
  tp.enable
  main(nil)
  tp.disable
  File.write(ARGV[1], log.map { |th, e, c, m| "#{th} #{e} #{c}##{m}" }.join("\n") + "\n")
elsif ARGV[0] == "--wait"
  main(ARGV[1])
else
  main(nil)
end
