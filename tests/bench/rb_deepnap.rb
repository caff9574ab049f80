# SPDX-License-Identifier: GPL-2.0-only
# The off-CPU program's signature at a given depth, as py_deepnap.py:
# recurses DEPTH calls, then sleeps N times for D seconds from there.
#   rb_deepnap.rb DEPTH N D
def down(k, n, d)
  return down(k - 1, n, d) if k.positive?

  n.times { sleep(d) }
end

down(ARGV[0].to_i, ARGV[1].to_i, ARGV[2].to_f)
