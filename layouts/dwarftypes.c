/* SPDX-License-Identifier: GPL-2.0-only */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layouts/dwarftypes.h"
#include "perfglue/hash.h"

enum entry_kind { ENTRY_TYPE, ENTRY_ENUM };

struct entry {
	const char *name; /* in the DWARF string table; NULL: empty slot */
	enum entry_kind kind;
	Dwarf_Die die;
	int64_t value;
};

struct rt_dwarf_types {
	int fd;
	Dwarf *dw;
	struct entry *slots;
	size_t cap, used;
};

static uint64_t name_hash(const char *s, enum entry_kind kind)
{
	return rt_hash_str(s, RT_HASH_SEED ^ kind);
}

static struct entry *lookup(const struct rt_dwarf_types *t, const char *name, enum entry_kind kind)
{
	size_t mask = t->cap - 1;

	for (size_t i = name_hash(name, kind) & mask; t->slots[i].name; i = (i + 1) & mask)
		if (t->slots[i].kind == kind && !strcmp(t->slots[i].name, name))
			return &t->slots[i];
	return NULL;
}

static int grow(struct rt_dwarf_types *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 4096;
	struct entry *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t j = 0; j < t->cap; j++) {
		size_t i;

		if (!t->slots[j].name)
			continue;
		for (i = name_hash(t->slots[j].name, t->slots[j].kind) & (ncap - 1); n[i].name;
		     i = (i + 1) & (ncap - 1))
			;
		n[i] = t->slots[j];
	}
	free(t->slots);
	t->slots = n;
	t->cap = ncap;
	return 0;
}

/* The first complete definition of a name wins: every unit that includes
 * a header describes the same struct. */
static int add(struct rt_dwarf_types *t, const char *name, enum entry_kind kind,
	       const Dwarf_Die *die, int64_t value)
{
	size_t i;

	if (lookup(t, name, kind))
		return 0;
	if ((t->used + 1) * 2 > t->cap && grow(t))
		return -ENOMEM;
	for (i = name_hash(name, kind) & (t->cap - 1); t->slots[i].name; i = (i + 1) & (t->cap - 1))
		;
	t->slots[i].name = name;
	t->slots[i].kind = kind;
	if (die)
		t->slots[i].die = *die;
	t->slots[i].value = value;
	t->used++;
	return 0;
}

static int index_die(struct rt_dwarf_types *t, Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	const char *name = dwarf_diename(die);
	Dwarf_Attribute a;
	Dwarf_Die child;

	switch (tag) {
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
		if (name && !dwarf_hasattr(die, DW_AT_declaration))
			return add(t, name, ENTRY_TYPE, die, 0);
		return 0;
	case DW_TAG_typedef:
		return name ? add(t, name, ENTRY_TYPE, die, 0) : 0;
	case DW_TAG_enumeration_type:
		if (dwarf_child(die, &child))
			return 0;
		do {
			Dwarf_Sword sv;
			const char *en = dwarf_diename(&child);

			if (dwarf_tag(&child) != DW_TAG_enumerator || !en ||
			    !dwarf_attr(&child, DW_AT_const_value, &a) || dwarf_formsdata(&a, &sv))
				continue;
			if (add(t, en, ENTRY_ENUM, NULL, sv))
				return -ENOMEM;
		} while (!dwarf_siblingof(&child, &child));
		return 0;
	default:
		return 0;
	}
}

struct rt_dwarf_types *rt_dwarf_types__open(const char *path)
{
	struct rt_dwarf_types *t = calloc(1, sizeof(*t));
	Dwarf_Off off = 0, next;
	size_t hsize;
	int err = 0;

	if (!t)
		return NULL;
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->fd < 0) {
		err = errno;
		goto fail;
	}
	t->dw = dwarf_begin(t->fd, DWARF_C_READ);
	if (!t->dw) {
		err = ENODATA;
		goto fail;
	}
	if (grow(t)) {
		err = ENOMEM;
		goto fail;
	}
	while (!dwarf_nextcu(t->dw, off, &next, &hsize, NULL, NULL, NULL)) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(t->dw, off + hsize, &cu) && !dwarf_child(&cu, &die)) {
			do {
				if (index_die(t, &die)) {
					err = ENOMEM;
					goto fail;
				}
			} while (!dwarf_siblingof(&die, &die));
		}
		off = next;
	}
	if (!t->used) {
		err = ENODATA;
		goto fail;
	}
	return t;
fail:
	rt_dwarf_types__close(t);
	errno = err;
	return NULL;
}

void rt_dwarf_types__close(struct rt_dwarf_types *t)
{
	if (!t)
		return;
	if (t->dw)
		dwarf_end(t->dw);
	if (t->fd >= 0)
		close(t->fd);
	free(t->slots);
	free(t);
}

/* Follows typedefs and qualifiers to the type itself. */
static bool strip(Dwarf_Die *die)
{
	for (int depth = 0; depth < 32; depth++) {
		Dwarf_Attribute a;
		int tag = dwarf_tag(die);

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
		    tag != DW_TAG_atomic_type)
			return true;
		if (!dwarf_attr(die, DW_AT_type, &a) || !dwarf_formref_die(&a, die))
			return false;
	}
	return false;
}

static bool member_offset(Dwarf_Die *m, uint64_t *off)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr(m, DW_AT_data_member_location, &a)) {
		*off = 0; /* union members */
		return true;
	}
	if (dwarf_formudata(&a, &w))
		return false;
	*off = w;
	return true;
}

/* Finds member @name in struct/union @die, also inside anonymous members;
 * on success @die becomes the member's type and @off grows by its offset. */
static bool find_member(Dwarf_Die *die, const char *name, size_t len, uint64_t *off, int depth)
{
	Dwarf_Die child;

	if (depth > 8 || dwarf_child(die, &child))
		return false;
	do {
		const char *n = dwarf_diename(&child);
		Dwarf_Attribute a;
		Dwarf_Die type;
		uint64_t moff;

		if (dwarf_tag(&child) != DW_TAG_member || !member_offset(&child, &moff) ||
		    !dwarf_attr(&child, DW_AT_type, &a) || !dwarf_formref_die(&a, &type))
			continue;
		if (n && strlen(n) == len && !strncmp(n, name, len)) {
			*off += moff;
			*die = type;
			return true;
		}
		if (!n && strip(&type)) {
			uint64_t inner = 0;

			if (find_member(&type, name, len, &inner, depth + 1)) {
				*off += moff + inner;
				*die = type;
				return true;
			}
		}
	} while (!dwarf_siblingof(&child, &child));
	return false;
}

static bool type_die(const struct rt_dwarf_types *t, const char *name, size_t len, Dwarf_Die *out)
{
	char buf[256];
	const struct entry *e;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, name, len);
	buf[len] = '\0';
	e = lookup(t, buf, ENTRY_TYPE);
	if (!e)
		return false;
	*out = e->die;
	return strip(out);
}

int rt_dwarf_types__offset(const struct rt_dwarf_types *t, const char *expr, uint64_t *out)
{
	const char *p = strchr(expr, '.');
	uint64_t off = 0;
	Dwarf_Die die;

	if (!p || !type_die(t, expr, (size_t)(p - expr), &die))
		return -ENOENT;
	while (p) {
		const char *name = p + 1, *end = strchr(name, '.');
		size_t len = end ? (size_t)(end - name) : strlen(name);

		if (!strip(&die) || !find_member(&die, name, len, &off, 0))
			return -ENOENT;
		p = end;
	}
	*out = off;
	return 0;
}

int rt_dwarf_types__size(const struct rt_dwarf_types *t, const char *type, uint64_t *out)
{
	Dwarf_Die die;
	Dwarf_Word size;

	if (!type_die(t, type, strlen(type), &die) || dwarf_aggregate_size(&die, &size))
		return -ENOENT;
	*out = size;
	return 0;
}

int rt_dwarf_types__enum(const struct rt_dwarf_types *t, const char *name, int64_t *out)
{
	const struct entry *e = lookup(t, name, ENTRY_ENUM);

	if (!e)
		return -ENOENT;
	*out = e->value;
	return 0;
}

int rt_dwarf_types__eval(const struct rt_dwarf_types *t, const char *alternatives, int64_t *out)
{
	const char *p = alternatives;

	while (*p) {
		const char *end = strchr(p, '|');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char buf[256];
		uint64_t u;
		int64_t s;

		if (len < sizeof(buf)) {
			memcpy(buf, p, len);
			buf[len] = '\0';
			if (!strncmp(buf, "sizeof:", 7)) {
				if (!rt_dwarf_types__size(t, buf + 7, &u)) {
					*out = (int64_t)u;
					return 0;
				}
			} else if (!strncmp(buf, "enum:", 5)) {
				if (!rt_dwarf_types__enum(t, buf + 5, &s)) {
					*out = s;
					return 0;
				}
			} else if (!rt_dwarf_types__offset(t, buf, &u)) {
				*out = (int64_t)u;
				return 0;
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	return -ENOENT;
}
