# SPDX-License-Identifier: GPL-2.0-only
# Rust: tokio's task poll and wake functions in an executable, named by
# their demangled symbols (tokio.c, for rt-bpf async).
LIB_SRCS   += runtimes/rust/tokio.c
UNIT_TESTS += tokio
