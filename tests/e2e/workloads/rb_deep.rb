# SPDX-License-Identifier: GPL-2.0-only
# DEPTH-deep recursion (first argument, 3000 by default) whose leaf spins
# for SECONDS (second argument): every sample taken in leaf has <main>,
# DEPTH x rec, leaf.
DEPTH = (ARGV[0] || 3000).to_i
SECONDS = (ARGV[1] || 3).to_f

def leaf(deadline)
  n = 0
  n += 1 while Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline # LEAF_LINE
  n
end

def rec(depth, deadline)
  return leaf(deadline) if depth <= 1 # CALL_LEAF_LINE
  rec(depth - 1, deadline) # REC_LINE
end

rec(DEPTH, Process.clock_gettime(Process::CLOCK_MONOTONIC) + SECONDS) # MAIN_LINE
