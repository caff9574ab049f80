/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A writer of CodeTracer's trace directory (the runtime_tracing format):
 * trace.json, an array of single-key event objects written as events come
 * (flushed on request, so a reader can follow it), trace_paths.json,
 * trace_metadata.json and files/ with a copy of each source file.  Paths,
 * functions, types and variable names are registered once and referred to
 * by their index, always after the record that introduces them.
 */
#ifndef RT_RTBPF_CODETRACER_H
#define RT_RTBPF_CODETRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The format's TypeKind numbers used here. */
enum rt_ctrace_type_kind {
	RT_CTRACE_TYPE_INT = 7,
	RT_CTRACE_TYPE_FLOAT = 8,
	RT_CTRACE_TYPE_STRING = 9,
	RT_CTRACE_TYPE_BOOL = 12,
	RT_CTRACE_TYPE_RAW = 16,
	RT_CTRACE_TYPE_ERROR = 24,
	RT_CTRACE_TYPE_NONE = 30,
};

/* The format's EventLogKind numbers used here. */
enum rt_ctrace_event_kind {
	RT_CTRACE_EVENT_WRITE = 0,
	RT_CTRACE_EVENT_ERROR = 11,
	RT_CTRACE_EVENT_TRACE_LOG = 12,
};

enum rt_ctrace_value_kind {
	RT_CTRACE_VALUE_NONE,
	RT_CTRACE_VALUE_INT,
	RT_CTRACE_VALUE_FLOAT,
	RT_CTRACE_VALUE_BOOL,
	RT_CTRACE_VALUE_STRING,
	RT_CTRACE_VALUE_RAW,
	RT_CTRACE_VALUE_ERROR, /* @text: the message (an exception propagating) */
};

/* A value record; @text (STRING, RAW, ERROR) is borrowed for the call. */
struct rt_ctrace_value {
	enum rt_ctrace_value_kind kind;
	uint32_t type_id;
	int64_t i;
	double f;
	bool b;
	const char *text;
	size_t len;
};

struct rt_ctrace_arg {
	uint32_t variable_id;
	struct rt_ctrace_value value;
};

struct rt_ctrace;

/*
 * Whether @dir can take a trace: it is absent, empty, or holds an earlier
 * trace (trace.json, and nothing but a trace's files), which
 * rt_ctrace__new() replaces whole.  Returns 0, -ENOTEMPTY when it holds
 * other files, or another -errno (-ENOTDIR: not a directory).
 */
int rt_ctrace__check_dir(const char *dir);

/*
 * Creates directory @dir with files/ in it and starts trace.json; an
 * earlier trace there is removed first (its files/ would mix with this
 * one's), and a directory holding other files refused
 * (rt_ctrace__check_dir).  @program, @argv (@argc strings) and @workdir go
 * into trace_metadata.json.  Returns NULL with errno set.
 */
struct rt_ctrace *rt_ctrace__new(const char *dir, const char *program, int argc,
				 char *const *argv, const char *workdir);

/*
 * The path id of @path, registering it (a Path record) the first time;
 * @copy_fd, when >= 0, is the source file to copy into files/ then (read
 * here, not closed).  Returns the id or -errno.
 */
int64_t rt_ctrace__path(struct rt_ctrace *w, const char *path, int copy_fd);

/* Whether @path is registered already. */
bool rt_ctrace__has_path(const struct rt_ctrace *w, const char *path);

/* The function id of (@path_id, @line, @name), registering it (a Function
 * record) the first time.  Returns the id or -errno. */
int64_t rt_ctrace__function(struct rt_ctrace *w, uint32_t path_id, int64_t line, const char *name);

/* The type id of (@kind, @lang_type), registering it (a Type record) the
 * first time.  Returns the id or -errno. */
int64_t rt_ctrace__type(struct rt_ctrace *w, enum rt_ctrace_type_kind kind, const char *lang_type);

/* The variable id of @name, registering it (a VariableName record) the
 * first time.  Returns the id or -errno. */
int64_t rt_ctrace__variable(struct rt_ctrace *w, const char *name);

/* Appends a Step record.  Returns 0 or -errno. */
int rt_ctrace__step(struct rt_ctrace *w, uint32_t path_id, int64_t line);

/* Appends a Call record with @nr_args arguments.  Returns 0 or -errno. */
int rt_ctrace__call(struct rt_ctrace *w, uint32_t function_id, const struct rt_ctrace_arg *args,
		    size_t nr_args);

/* Appends a Return record.  Returns 0 or -errno. */
int rt_ctrace__return(struct rt_ctrace *w, const struct rt_ctrace_value *value);

/* Appends an Event record of @kind with @metadata and @len bytes of
 * @content (any bytes: invalid UTF-8 becomes U+FFFD).  Returns 0 or -errno. */
int rt_ctrace__event(struct rt_ctrace *w, enum rt_ctrace_event_kind kind, const char *metadata,
		     const void *content, size_t len);

/* Flushes trace.json so far to the file.  Returns 0 or -errno. */
int rt_ctrace__flush(struct rt_ctrace *w);

/* Records written to trace.json so far. */
uint64_t rt_ctrace__records(const struct rt_ctrace *w);

/*
 * Ends trace.json and writes trace_paths.json and trace_metadata.json.
 * Returns 0 or -errno.  Frees @w either way; NULL is a no-op returning 0.
 */
int rt_ctrace__close(struct rt_ctrace *w);

#endif
