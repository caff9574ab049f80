# SPDX-License-Identifier: GPL-2.0-only
# short.rb MS [PATH ARGV0 ARGS...]: compresses for MS milliseconds in rb_busy,
# then execs PATH when given.
require 'zlib'

def rb_busy(ms)
  t = Process.clock_gettime(Process::CLOCK_MONOTONIC) + ms / 1000.0
  data = (0..255).map(&:chr).join * 64
  Zlib::Deflate.deflate(data, 9) while Process.clock_gettime(Process::CLOCK_MONOTONIC) < t
end

rb_busy(ARGV[0].to_f)
exec([ARGV[1], ARGV[2]], *ARGV[3..]) if ARGV.length > 1
