/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `rt-bpf trace`: records every call, return and line of a CPython or
 * CRuby process from its USDT probes and writes CodeTracer's trace
 * directory (docs/trace.md).
 */
#ifndef RT_RTBPF_TRACE_H
#define RT_RTBPF_TRACE_H

/*
 * Runs `rt-bpf trace` with @argv[0] "trace" and its options.  Returns the
 * process exit code: 0 when the trace was written, 1 on an error (one line
 * on stderr), 2 for a usage error.
 */
int rt_trace__main(int argc, char **argv);

#endif
