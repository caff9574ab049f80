/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Struct member offsets, type sizes and enum values read from the DWARF of
 * one ELF file (libdw), looked up by C name.  Used by structlayout.
 */
#ifndef RT_LAYOUTS_DWARFTYPES_H
#define RT_LAYOUTS_DWARFTYPES_H

#include <stdint.h>

struct rt_dwarf_types;

/*
 * Opens @path and indexes the named struct, union, typedef and enumerator
 * definitions of every compilation unit.  Returns NULL and sets errno
 * (ENODATA: the file has no DWARF).
 */
struct rt_dwarf_types *rt_dwarf_types__open(const char *path);

/* Frees the index and closes the file.  NULL is a no-op. */
void rt_dwarf_types__close(struct rt_dwarf_types *t);

/*
 * Offset of member path @expr ("Type.member.sub": a struct tag or typedef
 * name, then members, looking through anonymous structs and unions) from
 * the start of Type.  Returns 0 and sets @out, or -ENOENT.
 */
int rt_dwarf_types__offset(const struct rt_dwarf_types *t, const char *expr, uint64_t *out);

/* sizeof(@type) (tag or typedef name).  Returns 0 or -ENOENT. */
int rt_dwarf_types__size(const struct rt_dwarf_types *t, const char *type, uint64_t *out);

/* Value of enumerator @name.  Returns 0 or -ENOENT. */
int rt_dwarf_types__enum(const struct rt_dwarf_types *t, const char *name, int64_t *out);

/*
 * Evaluates "@a|@b|..." alternatives in order, each "Type.member...",
 * "sizeof:Type" or "enum:NAME"; the first one that resolves wins.
 * Returns 0 and sets @out, or -ENOENT when none does.
 */
int rt_dwarf_types__eval(const struct rt_dwarf_types *t, const char *alternatives, int64_t *out);

#endif
