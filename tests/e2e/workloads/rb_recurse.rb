# SPDX-License-Identifier: GPL-2.0-only
# 150-deep recursion whose leaf spins: every sample has 150 rec frames.
def leaf
  x = 0
  20_000.times { |i| x += i }
  x
end

def rec(depth)
  return leaf if depth == 0
  rec(depth - 1)
end

deadline = Time.now + (ARGV[0] || 3).to_f
rec(149) while Time.now < deadline
