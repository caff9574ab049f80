# SPDX-License-Identifier: GPL-2.0-only
# The outputs other tools open: speedscope JSON, gzipped pprof protobuf,
# differential flamegraphs (see docs/outputs.md).

LIB_SRCS   += rtmerge/frametext.c rtmerge/threads.c rtmerge/utf8.c rtmerge/json.c rtmerge/speedscope.c \
              rtmerge/protobuf.c rtmerge/pprof.c rtmerge/diff.c rtmerge/export.c
UNIT_TESTS += json speedscope protobuf pprof diff
