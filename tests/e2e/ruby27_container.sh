#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Debian bullseye's Ruby 2.7 in a container (tests/e2e/workloads/
# rb_container.bash says what is recorded and checked).
. "$(dirname "$0")/workloads/rb_container.bash"
run_version bullseye ruby2.7 ruby2.7 full
echo ok
