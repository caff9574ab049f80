/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rt-bpf async --ps (rtbpf/asyncps.h): prints the tasks
 * runtimes/python/asyncps.c reads, as a table, as the awaited-by tree
 * `python -m asyncio pstree` draws, and as JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfglue/safefile.h"
#include "rtbpf/asyncps.h"
#include "runtimes/python/asyncps.h"

#define MAX_DEPTH 512

void rt_async__json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* "func file:line", as asyncio's tools label a coroutine. */
static void frame_label(const struct rt_asyncps_frame *f, char *buf, size_t size)
{
	if (f->line)
		snprintf(buf, size, "%s %s:%d", f->func, f->file, f->line);
	else
		snprintf(buf, size, "%s %s", f->func, f->file);
}

static void print_table(FILE *f, const struct rt_asyncps *ps)
{
	fprintf(f, "%-10s %-18s %-20s %-10s %s\n", "thread", "task id", "task name", "awaited by",
	       "coroutine chain, innermost first");
	for (size_t i = 0; i < ps->nr_tasks; i++) {
		const struct rt_asyncps_task *t = &ps->tasks[i];

		fprintf(f, "%-10" PRIu64 " 0x%-16" PRIx64 " %-20s ", t->thread, t->addr, t->name);
		if (!t->nr_awaited_by)
			fprintf(f, "%-10s", "-");
		for (size_t k = 0; k < t->nr_awaited_by; k++) {
			const struct rt_asyncps_task *a = rt_asyncps__task(ps, t->awaited_by[k]);

			fprintf(f, "%s%s", k ? "," : "", a ? a->name : "(not a task)");
		}
		for (size_t k = 0; k < t->nr_frames; k++)
			fprintf(f, "%s%s (%s:%d)", k ? " -> " : " ", t->frames[k].func, t->frames[k].file,
			       t->frames[k].line);
		fputc('\n', f);
	}
}

/* ---- the awaited-by tree ---- */

/* A node: a task (its index in ps->tasks) or a coroutine of an awaiting
 * task's chain, under the node it hangs from. */
struct node {
	bool is_task;
	size_t task;
	char label[400];
	size_t *kids;
	size_t nr_kids, kids_cap;
	bool is_kid;
};

struct tree {
	struct node *nodes;
	size_t nr, cap;
};

static int tree_add(struct tree *t, bool is_task, size_t task, const char *label, size_t *out)
{
	if (t->nr == t->cap) {
		size_t n = t->cap ? t->cap * 2 : 64;
		struct node *p = realloc(t->nodes, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->nodes = p;
		t->cap = n;
	}
	memset(&t->nodes[t->nr], 0, sizeof(t->nodes[t->nr]));
	t->nodes[t->nr].is_task = is_task;
	t->nodes[t->nr].task = task;
	snprintf(t->nodes[t->nr].label, sizeof(t->nodes[t->nr].label), "%s", label);
	*out = t->nr++;
	return 0;
}

static int tree_link(struct tree *t, size_t parent, size_t kid)
{
	struct node *p = &t->nodes[parent];

	for (size_t i = 0; i < p->nr_kids; i++)
		if (p->kids[i] == kid)
			return 0;
	if (p->nr_kids == p->kids_cap) {
		size_t n = p->kids_cap ? p->kids_cap * 2 : 4;
		size_t *k = realloc(p->kids, n * sizeof(*k));

		if (!k)
			return -ENOMEM;
		p->kids = k;
		p->kids_cap = n;
	}
	p->kids[p->nr_kids++] = kid;
	t->nodes[kid].is_kid = true;
	return 0;
}

/* The coroutine node @label under @parent, made when missing. */
static int tree_coro(struct tree *t, size_t parent, const char *label, size_t *out)
{
	int err;

	for (size_t i = 0; i < t->nodes[parent].nr_kids; i++) {
		size_t k = t->nodes[parent].kids[i];

		if (!t->nodes[k].is_task && !strcmp(t->nodes[k].label, label)) {
			*out = k;
			return 0;
		}
	}
	err = tree_add(t, false, 0, label, out);
	return err ? err : tree_link(t, parent, *out);
}

/* Hangs @task's coroutine chain, outermost first, under its node. */
static int tree_chain(struct tree *t, const struct rt_asyncps_task *task, size_t from, size_t *out)
{
	char label[400];
	int err = 0;

	*out = from;
	for (size_t k = task->nr_frames; k-- > 0 && !err;) {
		frame_label(&task->frames[k], label, sizeof(label));
		err = tree_coro(t, *out, label, out);
	}
	return err;
}

static void tree_print(FILE *f, const struct tree *t, size_t n, char *prefix, size_t len, bool last,
		       int depth)
{
	const struct node *node = &t->nodes[n];

	fprintf(f, "%s%s%s %s\n", prefix, last ? "└── " : "├── ", node->is_task ? "(T)" : "",
	       node->label);
	if (depth >= MAX_DEPTH || len + 8 >= MAX_DEPTH * 8)
		return;
	strcpy(prefix + len, last ? "    " : "│   ");
	for (size_t i = 0; i < node->nr_kids; i++)
		tree_print(f, t, node->kids[i], prefix, len + strlen(prefix + len),
			   i + 1 == node->nr_kids, depth + 1);
	prefix[len] = '\0';
}

/* Each task under the coroutines of the tasks awaiting it, as `python -m
 * asyncio pstree` draws it: a task that awaits none shows its own chain;
 * the roots are the tasks nobody awaits. */
static int print_tree(FILE *f, const struct rt_asyncps *ps)
{
	struct tree t = { 0 };
	char *prefix = NULL;
	bool *awaits = calloc(ps->nr_tasks + 1, sizeof(*awaits));
	size_t at;
	int err = awaits ? 0 : -ENOMEM;

	for (size_t i = 0; i < ps->nr_tasks && !err; i++)
		err = tree_add(&t, true, i, ps->tasks[i].name, &at);
	for (size_t i = 0; i < ps->nr_tasks && !err; i++) {
		const struct rt_asyncps_task *task = &ps->tasks[i];

		for (size_t k = 0; k < task->nr_awaited_by && !err; k++) {
			const struct rt_asyncps_task *a = rt_asyncps__task(ps, task->awaited_by[k]);

			if (!a)
				continue;
			awaits[a - ps->tasks] = true;
			err = tree_chain(&t, a, (size_t)(a - ps->tasks), &at);
			if (!err)
				err = tree_link(&t, at, i);
		}
	}
	for (size_t i = 0; i < ps->nr_tasks && !err; i++)
		if (!awaits[i])
			err = tree_chain(&t, &ps->tasks[i], i, &at);
	prefix = err ? NULL : calloc(MAX_DEPTH * 8 + 16, 1);
	if (!err && !prefix)
		err = -ENOMEM;
	for (size_t i = 0; i < ps->nr_tasks && !err; i++)
		if (!t.nodes[i].is_kid)
			tree_print(f, &t, i, prefix, 0, true, 0);
	for (size_t i = 0; i < t.nr; i++)
		free(t.nodes[i].kids);
	free(t.nodes);
	free(awaits);
	free(prefix);
	return err;
}

static int write_json(const struct rt_asyncps *ps, pid_t pid, const char *path)
{
	FILE *f = rt_safefile__create(path);

	if (!f) {
		fprintf(stderr, "rt-bpf async: cannot write %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\"pid\": %d, \"version\": \"CPython %d.%d.%d\", \"tasks\": [", (int)pid,
		ps->major, ps->minor, ps->patch);
	for (size_t i = 0; i < ps->nr_tasks; i++) {
		const struct rt_asyncps_task *t = &ps->tasks[i];

		fprintf(f, "%s\n  {\"id\": %" PRIu64 ", \"address\": \"0x%" PRIx64 "\", \"name\": ",
			i ? "," : "", t->addr, t->addr);
		rt_async__json_str(f, t->name);
		fprintf(f, ", \"thread\": %" PRIu64 ", \"coroutine\": [", t->thread);
		for (size_t k = 0; k < t->nr_frames; k++) {
			fprintf(f, "%s{\"function\": ", k ? ", " : "");
			rt_async__json_str(f, t->frames[k].func);
			fputs(", \"file\": ", f);
			rt_async__json_str(f, t->frames[k].file);
			fprintf(f, ", \"line\": %d}", t->frames[k].line);
		}
		fputs("], \"awaited_by\": [", f);
		for (size_t k = 0; k < t->nr_awaited_by; k++)
			fprintf(f, "%s%" PRIu64, k ? ", " : "", t->awaited_by[k]);
		fputs("]}", f);
	}
	fputs("\n]}\n", f);
	if (fclose(f)) {
		fprintf(stderr, "rt-bpf async: cannot write %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int rt_async_ps__print(FILE *f, const struct rt_asyncps *ps)
{
	print_table(f, ps);
	fputc('\n', f);
	return print_tree(f, ps);
}

int rt_async_ps__run(pid_t pid, const char *json)
{
	struct rt_asyncps ps;
	char msg[256];
	int err = rt_asyncps__read(pid, &ps, msg, sizeof(msg));

	if (err) {
		fprintf(stderr, "rt-bpf async --ps: pid %d: %s\n", (int)pid, msg);
		return err;
	}
	printf("pid %d (CPython %d.%d.%d): %zu tasks\n\n", (int)pid, ps.major, ps.minor, ps.patch,
	       ps.nr_tasks);
	err = rt_async_ps__print(stdout, &ps);
	if (!err && json)
		err = write_json(&ps, pid, json);
	rt_asyncps__free(&ps);
	return err;
}
