#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Debian trixie's Ruby 3.3 in a container (tests/e2e/workloads/
# rb_container.bash says what is recorded and checked), and the recursion
# once more under YJIT, which compiles the hot methods to machine code:
# their frames must still walk.
. "$(dirname "$0")/workloads/rb_container.bash"
run_version trixie ruby3.3 ruby3.3 full
run_version trixie ruby3.3 ruby3.3-yjit recursion --yjit
echo ok
