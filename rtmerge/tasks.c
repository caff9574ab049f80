/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Task records into each thread's current task (rtmerge/tasks.h).  Two
 * tables: threads by tid (the task running, if any; perfglue/tidtable.h)
 * and task names by (pid, task address), open addressing.  A name record for an address that
 * has one replaces it: records come in time order, so a task created at a
 * finished one's address is named from its first step on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/record.h"
#include "perfglue/hash.h"
#include "perfglue/tidtable.h"
#include "rtmerge/tasks.h"

#define NAME_MAX_LEN (RT_REC_TASK_LABEL_MAX + RT_REC_TASK_CORO_MAX + 32)

struct thread_slot {
	struct rt_tid_key key; /* first: an entry of perfglue/tidtable.h */
	uint32_t pid;
	uint64_t task;
	uint64_t ret_sp, ret_addr; /* the step function's real return address */
	uint32_t kind;
	bool running;
};

struct name_slot {
	uint64_t task; /* with pid: the key; used marks a slot in use */
	uint32_t pid;
	bool used;
	char name[NAME_MAX_LEN];
};

struct rt_task_tracker {
	struct rt_tid_table threads; /* struct thread_slot by tid */
	struct name_slot *names;
	size_t names_cap, nr_names;
	char unnamed[48]; /* "task 0x..." of the last lookup without a name */
};

struct rt_task_tracker *rt_task_tracker__new(void)
{
	struct rt_task_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		errno = ENOMEM;
	else
		t->threads.entry_size = sizeof(struct thread_slot);
	return t;
}

void rt_task_tracker__free(struct rt_task_tracker *t)
{
	if (!t)
		return;
	rt_tid_table__clear(&t->threads);
	free(t->names);
	free(t);
}

static size_t name_index(const struct rt_task_tracker *t, uint32_t pid, uint64_t task)
{
	size_t mask = t->names_cap - 1, i = rt_hash64_keyed(task ^ (uint64_t)pid << 48) & mask;

	while (t->names[i].used && (t->names[i].task != task || t->names[i].pid != pid))
		i = (i + 1) & mask;
	return i;
}

static int names_reserve(struct rt_task_tracker *t)
{
	struct name_slot *old = t->names;
	size_t old_cap = t->names_cap;

	if ((t->nr_names + 1) * 2 <= t->names_cap)
		return 0;
	t->names_cap = old_cap ? old_cap * 2 : 256;
	t->names = calloc(t->names_cap, sizeof(*t->names));
	if (!t->names) {
		t->names = old;
		t->names_cap = old_cap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			t->names[name_index(t, old[i].pid, old[i].task)] = old[i];
	free(old);
	return 0;
}

/* A fixed, NUL-padded ASCII field as a string of printable characters. */
static void copy_field(char *out, size_t out_size, const char *field, size_t field_size)
{
	size_t n = strnlen(field, field_size), k = 0;

	for (size_t i = 0; i < n && k + 1 < out_size; i++)
		out[k++] = field[i] >= 0x20 && field[i] < 0x7f ? field[i] : '?';
	out[k] = '\0';
}

static int take_name(struct rt_task_tracker *t, const struct rt_rec_task_name *r)
{
	char label[RT_REC_TASK_LABEL_MAX + 24], coro[RT_REC_TASK_CORO_MAX + 1];
	struct name_slot *n;
	int err = names_reserve(t);

	if (err)
		return err;
	copy_field(label, sizeof(label), r->label, sizeof(r->label));
	copy_field(coro, sizeof(coro), r->coro, sizeof(r->coro));
	if (!label[0] && r->number)
		snprintf(label, sizeof(label), "Task-%" PRIu64, (uint64_t)r->number);
	n = &t->names[name_index(t, r->pid, r->task)];
	if (!n->used)
		t->nr_names++;
	n->used = true;
	n->pid = r->pid;
	n->task = r->task;
	if (r->kind == RT_REC_TASK_TOKIO || !label[0])
		snprintf(n->name, sizeof(n->name), "%s", coro[0] ? coro : "?");
	else
		snprintf(n->name, sizeof(n->name), "%s%s%s", label, coro[0] ? " " : "", coro);
	return 1;
}

static int take_step(struct rt_task_tracker *t, const struct rt_rec_task *r)
{
	struct thread_slot *th;

	if (!r->tid || (r->event != RT_REC_TASK_BEGIN && r->event != RT_REC_TASK_END))
		return -EINVAL;
	th = rt_tid_table__get(&t->threads, r->tid, true);
	if (!th)
		return -ENOMEM;
	th->pid = r->pid;
	th->kind = r->kind;
	th->task = r->task;
	th->running = r->event == RT_REC_TASK_BEGIN;
	th->ret_sp = th->running ? r->ret_sp : 0;
	th->ret_addr = th->running ? r->ret_addr : 0;
	return 1;
}

int rt_task_tracker__feed(struct rt_task_tracker *t, const void *raw, size_t size)
{
	struct rt_rec_header hdr;
	union {
		struct rt_rec_task step;
		struct rt_rec_task_name name;
	} r;

	if (size < sizeof(hdr))
		return 0;
	memcpy(&hdr, raw, sizeof(hdr));
	if (hdr.magic != RT_REC_MAGIC || (hdr.type != RT_REC_TASK && hdr.type != RT_REC_TASK_NAME))
		return 0;
	if (hdr.version != RT_REC_VERSION)
		return -EINVAL;
	if (hdr.type == RT_REC_TASK) {
		/* the records of earlier versions end before the return address */
		if (hdr.size < offsetof(struct rt_rec_task, ret_sp) || hdr.size > size)
			return -EINVAL;
		memset(&r.step, 0, sizeof(r.step));
		memcpy(&r.step, raw, hdr.size < sizeof(r.step) ? hdr.size : sizeof(r.step));
		return take_step(t, &r.step);
	}
	if (hdr.size < sizeof(r.name) || hdr.size > size)
		return -EINVAL;
	memcpy(&r.name, raw, sizeof(r.name));
	return take_name(t, &r.name);
}

/* The thread @tid of process @pid while it runs a step; NULL between steps. */
static const struct thread_slot *in_step(struct rt_task_tracker *t, uint32_t pid, uint32_t tid)
{
	const struct thread_slot *th = tid ? rt_tid_table__get(&t->threads, tid, false) : NULL;

	return th && th->running && th->pid == pid ? th : NULL;
}

const char *rt_task_tracker__current(struct rt_task_tracker *t, uint32_t pid, uint32_t tid,
				     uint32_t *kind)
{
	const struct thread_slot *th = in_step(t, pid, tid);
	const struct name_slot *n;

	if (!th)
		return NULL;
	*kind = th->kind;
	if (t->names_cap) {
		n = &t->names[name_index(t, pid, th->task)];
		if (n->used)
			return n->name;
	}
	snprintf(t->unnamed, sizeof(t->unnamed), "task 0x%" PRIx64, th->task);
	return t->unnamed;
}

int rt_task_tracker__return(struct rt_task_tracker *t, uint32_t pid, uint32_t tid,
			    uint64_t *sp, uint64_t *addr)
{
	const struct thread_slot *th = in_step(t, pid, tid);

	if (!th || !th->ret_sp)
		return -ENOENT;
	*sp = th->ret_sp;
	*addr = th->ret_addr;
	return 0;
}
