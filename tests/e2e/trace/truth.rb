# SPDX-License-Identifier: GPL-2.0-only
# The ground truth of tests/e2e/trace_rb.sh and trace_rb33.sh: recursion, a
# class method, a block through a C method (each), a write to stdout.  With
# --tracepoint FILE it logs its calls and returns (Ruby and C methods) with
# TracePoint into FILE; with --wait FILE it runs main once FILE exists.

def fib(n)
  return n if n < 2
  fib(n - 1) + fib(n - 2)
end

class Counter
  attr_reader :value

  def initialize(start)
    @value = start
  end

  def bump(by)
    @value += by
  end

  def self.make(start)
    new(start)
  end
end

def main
  total = fib(6)
  c = Counter.make(3)
  [0, 1, 2].each { |k| c.bump(k) }
  $stdout.write("total #{total} #{c.value}\n")
  $stdout.flush
  total
end

if ARGV[0] == "--tracepoint"
  # the hook only stores (its one C call, Array#<<, is seen by the probes
  # but not by TracePoint); the log is formatted after tracing ends
  log = []
  tp = TracePoint.new(:call, :return, :c_call, :c_return) do |t|
    log << [t.event, t.defined_class, t.method_id]
  end
  tp.enable { main }
  File.write(ARGV[1], log.map { |e, c, m| "#{e} #{c}##{m}" }.join("\n") + "\n")
elsif ARGV[0] == "--wait"
  sleep 0.01 until File.exist?(ARGV[1])
  main
else
  main
end
