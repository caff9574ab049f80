# SPDX-License-Identifier: GPL-2.0-only
# Three threads, each running its own methods; one compresses with zlib,
# which releases the GVL, so it runs in C while the others run Ruby.
require 'zlib'

def alpha_spin(deadline)
  x = 0
  x += 1 while Time.now < deadline
  x
end

def beta_spin(deadline)
  y = 0
  [1, 2, 3].each { |k| y += k } while Time.now < deadline
  y
end

def gamma_compress(deadline, data)
  n = 0
  while Time.now < deadline
    Zlib::Deflate.deflate(data, Zlib::BEST_COMPRESSION)
    n += 1
  end
  n
end

secs = (ARGV[0] || 3).to_f
deadline = Time.now + secs
data = Random.new(1).bytes(1 << 16) * 8
threads = []
threads << Thread.new { alpha_spin(deadline) }
threads << Thread.new { beta_spin(deadline) }
threads << Thread.new { gamma_compress(deadline, data) }
threads.each(&:join)
