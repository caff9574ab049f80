# SPDX-License-Identifier: GPL-2.0-only
# Ground truth for summed off-CPU intervals of a Ruby thread, as
# offcpu_sums.py (tests/e2e/offcpu_sums.sh): the main thread sleeps N times
# for D1 seconds in short_naps, then N times for D2 in long_naps, through the
# same C method from the same depth, so only the Ruby frames tell the two
# apart.  Then it sleeps N times for D2 through query and nap, called by
# view_a and view_b in turn: only a frame further from the leaf tells the
# two apart.  Prints its tid and the seconds spent inside each method's
# sleeps, by its own clock, as JSON.
#   offcpu_sums.rb N D1 D2
require 'json'

def now; Process.clock_gettime(Process::CLOCK_MONOTONIC); end

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

def nap(d)
  sleep(d)
end

def query(d)
  nap(d)
end

def view_a(d)
  t = now
  query(d)
  now - t
end

def view_b(d)
  t = now
  query(d)
  now - t
end

def views(n, d)
  spent = [0.0, 0.0]
  n.times do |i|
    if i.even?
      spent[0] += view_a(d)
    else
      spent[1] += view_b(d)
    end
  end
  spent
end

n, d1, d2 = ARGV[0].to_i, ARGV[1].to_f, ARGV[2].to_f
t0 = now
short = short_naps(n, d1)
t1 = now
long = long_naps(n, d2)
t2 = now
a, b = views(n, d2)
t3 = now
puts JSON.generate({ tid: Process.pid, short_naps: short, long_naps: long, # the main thread
                     view_a: a, view_b: b, short_wall: t1 - t0, long_wall: t2 - t1,
                     views_wall: t3 - t2 })
$stdout.flush
