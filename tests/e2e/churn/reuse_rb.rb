# The Ruby process that takes over a Python process's pid.
def ruby_spin(secs)
  t = Process.clock_gettime(Process::CLOCK_MONOTONIC) + secs
  while Process.clock_gettime(Process::CLOCK_MONOTONIC) < t
  end
end
ruby_spin(ARGV[0].to_f)
