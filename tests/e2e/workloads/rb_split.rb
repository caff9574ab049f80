# SPDX-License-Identifier: GPL-2.0-only
# two-branch split: branch_a does three times branch_b's work (random slices)
def work(n)
  s = 0
  i = 0
  while i < n
    s += i * i
    i += 1
  end
  s
end

def branch_a
  work(3 * $unit)
end

def branch_b
  work($unit)
end

deadline = Time.now + (ARGV[0] || 3).to_f
while Time.now < deadline
  $unit = 50_000 + rand(100_000); branch_a
  branch_b
  3.times { |k| work(1000 + k) }
end
