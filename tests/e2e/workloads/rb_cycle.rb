# SPDX-License-Identifier: GPL-2.0-only
# A DEPTH-deep recursion through NFUNCS distinct methods called in a cycle
# (f0 calls f1 ... calls f0), then a busy loop at the bottom: the stack of a
# framework whose layers repeat, where rb_deep.rb's stack is one method over
# and over.
#   rb_cycle.rb DEPTH SECONDS NFUNCS
DEPTH = ARGV[0].to_i
SECONDS = ARGV[1].to_f
NFUNCS = ARGV[2].to_i

def leaf(deadline)
  n = 0
  n += 1 while Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
  n
end

NFUNCS.times do |i|
  # one instruction sequence per method, each from its own file name: a
  # frame named with another method's iseq would show it
  eval(<<~SRC, binding, "layer#{i}.rb", 1)
    def f#{i}(depth, deadline)
      return leaf(deadline) if depth <= 1
      f#{(i + 1) % NFUNCS}(depth - 1, deadline)
    end
  SRC
end

f0(DEPTH, Process.clock_gettime(Process::CLOCK_MONOTONIC) + SECONDS)
