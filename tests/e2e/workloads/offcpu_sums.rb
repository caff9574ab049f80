# SPDX-License-Identifier: GPL-2.0-only
# Ground truth for summed off-CPU intervals of a Ruby thread, as
# offcpu_sums.py (tests/e2e/offcpu_sums.sh): the main thread sleeps N times
# for D1 seconds in short_naps, then N times for D2 in long_naps, through the
# same C method from the same depth, so only the Ruby frames tell the two
# apart.  Prints its tid and the seconds spent inside each method's sleeps,
# by its own clock, as JSON.
#   offcpu_sums.rb N D1 D2
require 'json'

def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)

def short_naps(n, d)
  spent = 0.0
  n.times do
    t = now
    sleep(d)
    spent += now - t
  end
  spent
end

def long_naps(n, d)
  spent = 0.0
  n.times do
    t = now
    sleep(d)
    spent += now - t
  end
  spent
end

n, d1, d2 = ARGV[0].to_i, ARGV[1].to_f, ARGV[2].to_f
t0 = now
short = short_naps(n, d1)
t1 = now
long = long_naps(n, d2)
t2 = now
puts JSON.generate({ tid: Thread.current.native_thread_id, short_naps: short, long_naps: long,
                     short_wall: t1 - t0, long_wall: t2 - t1 })
$stdout.flush
