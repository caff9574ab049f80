# SPDX-License-Identifier: GPL-2.0-only
# two-branch split: branch_a does three times branch_b's work
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
  work(300_000)
end

def branch_b
  work(100_000)
end

deadline = Time.now + (ARGV[0] || 3).to_f
while Time.now < deadline
  branch_a
  branch_b
  3.times { |k| work(1000 + k) }
end
