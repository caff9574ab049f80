/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CodeTracer trace directory writer (rtbpf/codetracer.h).  Keys of the
 * interning tables are strings (a path; "line\x1fname" under a path id; a
 * type's kind and name), kept in one open-addressing table per kind of id.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfglue/hash.h"
#include "perfglue/safefile.h"
#include "rtbpf/codetracer.h"

/* Source files are copied up to this size; a larger one is left out. */
#define SOURCE_MAX (64u << 20)

struct intern {
	char **keys;
	uint32_t *ids;
	size_t cap, count;
};

struct rt_ctrace {
	char *dir;
	FILE *trace;
	uint64_t records;
	struct intern paths, functions, types, variables;
	char **path_list; /* by path id: trace_paths.json */
	size_t nr_paths;
	char *program, *workdir;
	char **argv;
	int argc;
};

/* The id stored for @key, or -1; with @add, stores @id for a new key. */
static int64_t intern__get(struct intern *t, const char *key, bool add, uint32_t id)
{
	size_t i;

	if (t->count * 2 >= t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **keys = calloc(cap, sizeof(*keys));
		uint32_t *ids = calloc(cap, sizeof(*ids));

		if (!keys || !ids) {
			free(keys);
			free(ids);
			return -ENOMEM;
		}
		for (size_t j = 0; j < t->cap; j++) {
			if (!t->keys[j])
				continue;
			i = rt_hash_str(t->keys[j], RT_HASH_SEED) & (cap - 1);
			while (keys[i])
				i = (i + 1) & (cap - 1);
			keys[i] = t->keys[j];
			ids[i] = t->ids[j];
		}
		free(t->keys);
		free(t->ids);
		t->keys = keys;
		t->ids = ids;
		t->cap = cap;
	}
	i = rt_hash_str(key, RT_HASH_SEED) & (t->cap - 1);
	for (; t->keys[i]; i = (i + 1) & (t->cap - 1))
		if (!strcmp(t->keys[i], key))
			return t->ids[i];
	if (!add)
		return -1;
	t->keys[i] = strdup(key);
	if (!t->keys[i])
		return -ENOMEM;
	t->ids[i] = id;
	t->count++;
	return -2; /* added */
}

static void intern__free(struct intern *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->ids);
}

/* Writes @len bytes of @s as a JSON string: valid UTF-8 passes, control
 * characters are escaped, every other byte becomes U+FFFD. */
static void json_string(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	fputc('"', f);
	while (p < end) {
		unsigned char c = *p;
		size_t n = 0;

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			p++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			if (c == '\n')
				fputs("\\n", f);
			else if (c == '\t')
				fputs("\\t", f);
			else if (c == '\r')
				fputs("\\r", f);
			else
				fprintf(f, "\\u%04x", c);
			p++;
			continue;
		}
		if (c < 0x80)
			n = 1;
		else if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		if (n && p + n <= end) {
			bool ok = true;

			for (size_t k = 1; k < n; k++)
				ok &= (p[k] & 0xc0) == 0x80;
			/* overlong three/four-byte forms, surrogates, past U+10FFFF */
			if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
				ok = false;
			if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
				ok = false;
			if (ok) {
				fwrite(p, 1, n, f);
				p += n;
				continue;
			}
		}
		fputs("\xef\xbf\xbd", f);
		p++;
	}
	fputc('"', f);
}

static void json_cstring(FILE *f, const char *s)
{
	json_string(f, s, strlen(s));
}

/* Starts the next element of trace.json's array. */
static FILE *record(struct rt_ctrace *w)
{
	fputs(w->records++ ? ",\n" : "\n", w->trace);
	return w->trace;
}

static char *join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* What a trace directory holds: an earlier trace is these and nothing
 * else. */
static const char *const trace_names[] = {
	"trace.json", "trace_paths.json", "trace_metadata.json", "files",
};

static bool is_trace_name(const char *name)
{
	for (size_t i = 0; i < sizeof(trace_names) / sizeof(trace_names[0]); i++)
		if (!strcmp(name, trace_names[i]))
			return true;
	return false;
}

/* 0 when @dir is absent or empty, 1 when it holds an earlier trace (its
 * trace.json and nothing but a trace's names), -ENOTEMPTY when it holds
 * other files (files/ alone, without trace.json, is somebody else's), else
 * -errno. */
static int dir_state(const char *dir)
{
	struct dirent *e;
	bool trace = false, other = false, files = false;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!strcmp(e->d_name, "trace.json"))
			trace = true;
		else if (!strcmp(e->d_name, "files"))
			files = true;
		else if (!is_trace_name(e->d_name))
			other = true;
	}
	closedir(d);
	if (other || (files && !trace))
		return -ENOTEMPTY;
	return trace ? 1 : 0;
}

int rt_ctrace__check_dir(const char *dir)
{
	int state = dir_state(dir);

	return state < 0 ? state : 0;
}

static int remove_below(int dfd, unsigned int depth);

/* Removes entry @name of the directory open at @dfd, a directory with all
 * below it.  A directory is opened through @dfd with O_NOFOLLOW and each
 * entry removed by unlinkat(): a symbolic link, even one swapped in for a
 * directory while this runs, is removed itself, never followed (rt-bpf
 * runs as root; DIR may be writable by others).  0 when it is gone. */
static int remove_entry(int dfd, const char *name, unsigned int depth)
{
	int sub, err;

	if (!unlinkat(dfd, name, 0) || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth >= 256)
		return -ELOOP;
	sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return -errno;
	err = remove_below(sub, depth + 1);
	close(sub);
	if (!err && unlinkat(dfd, name, AT_REMOVEDIR))
		err = -errno;
	return err;
}

/* Removes everything below the directory open at @dfd (remove_entry). */
static int remove_below(int dfd, unsigned int depth)
{
	int fd = dup(dfd), err = 0;
	struct dirent *e;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d))) {
		int e2;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		e2 = remove_entry(dfd, e->d_name, depth);
		if (e2)
			err = e2;
	}
	closedir(d);
	return err;
}

/* Removes an earlier trace from @dir (its files only), so that the new
 * one does not mix with it: files/ of the old trace would stay beside the
 * new one's. */
static int clear_trace(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (dfd < 0)
		return -errno;
	for (size_t i = 0; !err && i < sizeof(trace_names) / sizeof(trace_names[0]); i++)
		err = remove_entry(dfd, trace_names[i], 0);
	close(dfd);
	return err;
}

struct rt_ctrace *rt_ctrace__new(const char *dir, const char *program, int argc,
				 char *const *argv, const char *workdir)
{
	struct rt_ctrace *w = calloc(1, sizeof(*w));
	char *files = NULL, *trace = NULL;
	int err = 0;

	if (!w)
		return NULL;
	err = dir_state(dir);
	if (err == 1)
		err = clear_trace(dir);
	if (err) {
		err = -err;
		goto fail;
	}
	if ((mkdir(dir, 0755) && errno != EEXIST)) {
		err = errno;
		goto fail;
	}
	w->dir = strdup(dir);
	files = join(dir, "files");
	trace = join(dir, "trace.json");
	w->program = strdup(program ? program : "");
	w->workdir = strdup(workdir ? workdir : "");
	w->argv = calloc(argc > 0 ? argc : 1, sizeof(*w->argv));
	if (!w->dir || !files || !trace || !w->program || !w->workdir || !w->argv) {
		err = ENOMEM;
		goto fail;
	}
	for (int i = 0; i < argc; i++) {
		w->argv[i] = strdup(argv[i]);
		if (!w->argv[i]) {
			err = ENOMEM;
			goto fail;
		}
		w->argc = i + 1;
	}
	if (mkdir(files, 0755) && errno != EEXIST) {
		err = errno;
		goto fail;
	}
	w->trace = rt_safefile__create(trace);
	if (!w->trace) {
		err = errno;
		goto fail;
	}
	fputc('[', w->trace);
	free(files);
	free(trace);
	return w;
fail:
	free(files);
	free(trace);
	rt_ctrace__close(w);
	errno = err;
	return NULL;
}

/* Copies the regular file @fd into files/ under its absolute @path. */
static int copy_source(struct rt_ctrace *w, const char *path, int fd)
{
	char *dst = NULL, *slash;
	char buf[65536];
	struct stat st;
	FILE *out;
	ssize_t n;
	off_t done = 0;
	int err = 0;

	if (path[0] != '/' || strstr(path, "/../") || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > SOURCE_MAX)
		return -EINVAL;
	if (asprintf(&dst, "%s/files%s", w->dir, path) < 0)
		return -ENOMEM;
	/* the directories of the path, one by one */
	for (slash = dst + strlen(w->dir) + 7; (slash = strchr(slash, '/')); slash++) {
		*slash = 0;
		if (mkdir(dst, 0755) && errno != EEXIST)
			err = -errno;
		*slash = '/';
		if (err)
			goto out;
	}
	out = rt_safefile__create(dst);
	if (!out) {
		err = -errno;
		goto out;
	}
	while ((n = pread(fd, buf, sizeof(buf), done)) > 0) {
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
			err = -EIO;
			break;
		}
		done += n;
	}
	if (fclose(out) && !err)
		err = -EIO;
out:
	free(dst);
	return err;
}

bool rt_ctrace__has_path(const struct rt_ctrace *w, const char *path)
{
	return intern__get((struct intern *)&w->paths, path, false, 0) >= 0;
}

int64_t rt_ctrace__path(struct rt_ctrace *w, const char *path, int copy_fd)
{
	int64_t id = intern__get(&w->paths, path, true, (uint32_t)w->nr_paths);
	char **list;

	if (id != -2)
		return id;
	list = realloc(w->path_list, (w->nr_paths + 1) * sizeof(*list));
	if (!list)
		return -ENOMEM;
	w->path_list = list;
	list[w->nr_paths] = strdup(path);
	if (!list[w->nr_paths])
		return -ENOMEM;
	id = (int64_t)w->nr_paths++;
	fputs("{\"Path\": ", record(w));
	json_cstring(w->trace, path);
	fputc('}', w->trace);
	if (copy_fd >= 0)
		copy_source(w, path, copy_fd);
	return id;
}

int64_t rt_ctrace__function(struct rt_ctrace *w, uint32_t path_id, int64_t line, const char *name)
{
	char *key;
	int64_t id;

	if (asprintf(&key, "%" PRIu32 "\x1f%" PRId64 "\x1f%s", path_id, line, name) < 0)
		return -ENOMEM;
	id = intern__get(&w->functions, key, true, (uint32_t)w->functions.count);
	free(key);
	if (id != -2)
		return id;
	id = (int64_t)w->functions.count - 1;
	fprintf(record(w), "{\"Function\": {\"path_id\": %" PRIu32 ", \"line\": %" PRId64 ", \"name\": ",
		path_id, line);
	json_cstring(w->trace, name);
	fputs("}}", w->trace);
	return id;
}

int64_t rt_ctrace__type(struct rt_ctrace *w, enum rt_ctrace_type_kind kind, const char *lang_type)
{
	char *key;
	int64_t id;

	if (asprintf(&key, "%d\x1f%s", (int)kind, lang_type) < 0)
		return -ENOMEM;
	id = intern__get(&w->types, key, true, (uint32_t)w->types.count);
	free(key);
	if (id != -2)
		return id;
	id = (int64_t)w->types.count - 1;
	fprintf(record(w), "{\"Type\": {\"kind\": %d, \"lang_type\": ", (int)kind);
	json_cstring(w->trace, lang_type);
	fputs(", \"specific_info\": {\"kind\": \"None\"}}}", w->trace);
	return id;
}

int64_t rt_ctrace__variable(struct rt_ctrace *w, const char *name)
{
	int64_t id = intern__get(&w->variables, name, true, (uint32_t)w->variables.count);

	if (id != -2)
		return id;
	id = (int64_t)w->variables.count - 1;
	fputs("{\"VariableName\": ", record(w));
	json_cstring(w->trace, name);
	fputc('}', w->trace);
	return id;
}

int rt_ctrace__step(struct rt_ctrace *w, uint32_t path_id, int64_t line)
{
	fprintf(record(w), "{\"Step\": {\"path_id\": %" PRIu32 ", \"line\": %" PRId64 "}}", path_id,
		line);
	return 0;
}

static void value(FILE *f, const struct rt_ctrace_value *v)
{
	switch (v->kind) {
	case RT_CTRACE_VALUE_INT:
		fprintf(f, "{\"kind\": \"Int\", \"i\": %" PRId64, v->i);
		break;
	case RT_CTRACE_VALUE_FLOAT:
		/* JSON has no NaN or infinities: those go as Raw text */
		if (v->f != v->f || v->f > 1.7976931348623157e308 || v->f < -1.7976931348623157e308)
			fprintf(f, "{\"kind\": \"Raw\", \"r\": \"%s\"",
				v->f != v->f ? "nan" : v->f > 0 ? "inf" : "-inf");
		else
			fprintf(f, "{\"kind\": \"Float\", \"f\": %.17g", v->f);
		break;
	case RT_CTRACE_VALUE_BOOL:
		fprintf(f, "{\"kind\": \"Bool\", \"b\": %s", v->b ? "true" : "false");
		break;
	case RT_CTRACE_VALUE_STRING:
		fputs("{\"kind\": \"String\", \"text\": ", f);
		json_string(f, v->text, v->len);
		break;
	case RT_CTRACE_VALUE_RAW:
		fputs("{\"kind\": \"Raw\", \"r\": ", f);
		json_string(f, v->text, v->len);
		break;
	case RT_CTRACE_VALUE_ERROR:
		fputs("{\"kind\": \"Error\", \"msg\": ", f);
		json_string(f, v->text, v->len);
		break;
	default:
		fputs("{\"kind\": \"None\"", f);
		break;
	}
	fprintf(f, ", \"type_id\": %" PRIu32 "}", v->type_id);
}

int rt_ctrace__call(struct rt_ctrace *w, uint32_t function_id, const struct rt_ctrace_arg *args,
		    size_t nr_args)
{
	FILE *f = record(w);

	fprintf(f, "{\"Call\": {\"function_id\": %" PRIu32 ", \"args\": [", function_id);
	for (size_t i = 0; i < nr_args; i++) {
		fprintf(f, "%s{\"variable_id\": %" PRIu32 ", \"value\": ", i ? ", " : "",
			args[i].variable_id);
		value(f, &args[i].value);
		fputc('}', f);
	}
	fputs("]}}", f);
	return 0;
}

int rt_ctrace__return(struct rt_ctrace *w, const struct rt_ctrace_value *v)
{
	FILE *f = record(w);

	fputs("{\"Return\": {\"return_value\": ", f);
	value(f, v);
	fputs("}}", f);
	return 0;
}

int rt_ctrace__event(struct rt_ctrace *w, enum rt_ctrace_event_kind kind, const char *metadata,
		     const void *content, size_t len)
{
	FILE *f = record(w);

	fprintf(f, "{\"Event\": {\"kind\": %d, \"metadata\": ", (int)kind);
	json_cstring(f, metadata ? metadata : "");
	fputs(", \"content\": ", f);
	json_string(f, content, len);
	fputs("}}", f);
	return 0;
}

int rt_ctrace__flush(struct rt_ctrace *w)
{
	return fflush(w->trace) ? -errno : 0;
}

uint64_t rt_ctrace__records(const struct rt_ctrace *w)
{
	return w->records;
}

/* Writes @dir/@name from the writer's state with @fill. */
static int write_file(struct rt_ctrace *w, const char *name, void (*fill)(struct rt_ctrace *, FILE *))
{
	char *path = join(w->dir, name);
	FILE *f;
	int err = 0;

	if (!path)
		return -ENOMEM;
	f = rt_safefile__create(path);
	free(path);
	if (!f)
		return -errno;
	fill(w, f);
	if (ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static void fill_paths(struct rt_ctrace *w, FILE *f)
{
	fputc('[', f);
	for (size_t i = 0; i < w->nr_paths; i++) {
		fputs(i ? ", " : "", f);
		json_cstring(f, w->path_list[i]);
	}
	fputs("]\n", f);
}

static void fill_metadata(struct rt_ctrace *w, FILE *f)
{
	fputs("{\"workdir\": ", f);
	json_cstring(f, w->workdir);
	fputs(", \"program\": ", f);
	json_cstring(f, w->program);
	fputs(", \"args\": [", f);
	for (int i = 0; i < w->argc; i++) {
		fputs(i ? ", " : "", f);
		json_cstring(f, w->argv[i]);
	}
	fputs("]}\n", f);
}

int rt_ctrace__close(struct rt_ctrace *w)
{
	int err = 0, e;

	if (!w)
		return 0;
	if (w->trace) {
		fputs("\n]\n", w->trace);
		if (ferror(w->trace))
			err = -EIO;
		if (fclose(w->trace) && !err)
			err = -errno;
		e = write_file(w, "trace_paths.json", fill_paths);
		err = err ? err : e;
		e = write_file(w, "trace_metadata.json", fill_metadata);
		err = err ? err : e;
	}
	intern__free(&w->paths);
	intern__free(&w->functions);
	intern__free(&w->types);
	intern__free(&w->variables);
	for (size_t i = 0; i < w->nr_paths; i++)
		free(w->path_list[i]);
	free(w->path_list);
	for (int i = 0; i < w->argc; i++)
		free(w->argv[i]);
	free(w->argv);
	free(w->program);
	free(w->workdir);
	free(w->dir);
	free(w);
	return err;
}
