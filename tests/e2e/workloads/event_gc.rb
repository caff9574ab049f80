# SPDX-License-Identifier: GPL-2.0-only
# Exact counts for event mode with Ruby's USDT probes: collect_k runs K full
# collections (libruby's sdt_ruby:gc__mark__begin fires once per marking).
#   event_gc.rb K
def collect_k(k)
  k.times { GC.start }
end

collect_k(ARGV[0].to_i)
