# SPDX-License-Identifier: GPL-2.0-only
# GVL contention: THREADS threads run Ruby code for SECONDS each (they need
# the GVL, so with two each waits for it about half the time).  Each
# measures its wall and CPU time: what it spent off the CPU is, nearly
# all, waiting for the GVL.  Prints the totals and the threads' ids (the
# kernel's, from 3.1).
#
#     gvl_contention.rb SECONDS THREADS
require "json"

def spin(seconds)
  w0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  c0 = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID)
  x = 0
  while Process.clock_gettime(Process::CLOCK_MONOTONIC) - w0 < seconds
    1000.times { |i| x += i }
  end
  [Process.clock_gettime(Process::CLOCK_MONOTONIC) - w0,
   Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID) - c0]
end

seconds = Float(ARGV[0])
n = Integer(ARGV[1])
results = {}
lock = Mutex.new
threads = n.times.map do
  Thread.new do
    w, c = spin(seconds)
    # Thread#native_thread_id is 3.1+
    id = Thread.current.respond_to?(:native_thread_id) ? Thread.current.native_thread_id :
                                                         Thread.current.object_id
    lock.synchronize { results[id] = [w, c] }
  end
end
threads.each(&:join)
puts JSON.generate({ "spinners" => results.keys.sort,
                     "wall" => results.values.sum { |w, _| w },
                     "cpu" => results.values.sum { |_, c| c } })
