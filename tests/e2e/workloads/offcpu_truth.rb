# SPDX-License-Identifier: GPL-2.0-only
# Ground truth for the off-CPU and wall-clock views, as offcpu_truth.py:
# the main thread spends random slices computing, sleeping and blocked on a
# pipe read (a helper thread writes after the slice's length) and prints
# what its own clock measured for each kind.
#   offcpu_truth.rb SECONDS COMPUTE SLEEP PIPE [SEED]   (weights)
require 'json'

def now; Process.clock_gettime(Process::CLOCK_MONOTONIC); end

def compute_slice(sec)
  stop = now + sec
  x = 0
  x += 1 while now < stop
  x
end

def sleep_slice(sec)
  sleep(sec)
end

def pipe_slice(sec, req, data)
  req.write("#{sec}\n")
  req.flush
  data.readpartial(1)
end

total = ARGV[0].to_f
weights = ARGV[1, 3].map(&:to_f)
rng = ARGV[4] ? Random.new(ARGV[4].to_i) : Random.new
req_r, req_w = IO.pipe
data_r, data_w = IO.pipe
req_w.sync = true
data_w.sync = true
Thread.new do
  while (line = req_r.gets)
    sleep(line.to_f)
    data_w.write('x')
  end
end
spent = { 'compute' => 0.0, 'sleep' => 0.0, 'pipe' => 0.0 }
start = now
sum = weights.sum
while now - start < total
  u = rng.rand * sum
  kind = u < weights[0] ? 'compute' : (u < weights[0] + weights[1] ? 'sleep' : 'pipe')
  sec = 0.002 + rng.rand * 0.028
  t0 = now
  case kind
  when 'compute' then compute_slice(sec)
  when 'sleep' then sleep_slice(sec)
  else pipe_slice(sec, req_w, data_r)
  end
  spent[kind] += now - t0
end
spent['wall'] = now - start
spent['tid'] = File.read('/proc/thread-self/stat').split[0].to_i
puts JSON.generate(spent)
$stdout.flush
