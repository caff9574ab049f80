# SPDX-License-Identifier: GPL-2.0-only
# tests/e2e/trace_rb33.sh's second program: an exception raised four Ruby
# methods deep, through blocks run by a C method (Array#each), unwinding
# them all into a rescue; then a method called by a C method from C
# (Array#map with &method).  Options as truth.rb's.

def down(n)
  raise ArgumentError, "bottom" if n == 0
  [n].each { |k| down(k - 1) }
end

def twice(x)
  x * 2
end

def main
  begin
    down(3)
  rescue ArgumentError => e
    $stdout.write("rescued #{e.message}\n")
  end
  [1, 2].map(&method(:twice)).sum
end

if ARGV[0] == "--tracepoint"
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
