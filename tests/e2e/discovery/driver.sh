#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# driver.sh DIR PYTHON...: starts, one after the other, short-lived Python
# and Ruby processes (40 ms of work each) and ones that exec from one
# interpreter into the other, every one started after the recording began.
dir=$1; shift
for round in 1 2 3; do
	for py in "$@"; do
		"$py" "$dir/short.py" 40
		"$py" "$dir/short.py" 40 /usr/bin/ruby3.1 ruby3.1 "$dir/short.rb" 40
		ruby3.1 "$dir/short.rb" 40 "$py" "$py" "$dir/short.py" 40
	done
	ruby3.1 "$dir/short.rb" 40
done
