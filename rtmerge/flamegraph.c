/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flamegraph: merges stacks into a call tree and writes it as one
 * self-contained SVG document with an embedded script (see flamegraph.js).
 *
 * Names are interned once; tree nodes live in one array and are found by a
 * (parent, name) hash table, so memory is proportional to the distinct call
 * paths and insertion is O(depth) whatever the fan-out.  Writing walks the
 * tree iteratively (inputs may be thousands of frames deep).
 */
#include <errno.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rtmerge/flamegraph.h"
#include "perfglue/grow.h"
#include "rtmerge/flamegraph_js.h"

#define NONE UINT32_MAX

/* Geometry, shared with the script through attributes on the <svg> root. */
#define XPAD 10
#define FONT_SIZE 12
#define FRAME_HEIGHT 16
#define FONT_WIDTH 0.59 /* average glyph width / font size for Verdana */

enum frame_kind {
	KIND_NATIVE,
	KIND_KERNEL,
	KIND_JIT,
	KIND_PYTHON,
	KIND_RUBY,
	KIND_RUBY_CFUNC,
	KIND_UNRESOLVED,
	KIND_TASK,
	KIND__COUNT,
};

static const char *const kind_names[KIND__COUNT] = {
	[KIND_NATIVE] = "native",
	[KIND_KERNEL] = "kernel",
	[KIND_JIT] = "JIT",
	[KIND_PYTHON] = "Python",
	[KIND_RUBY] = "Ruby",
	[KIND_RUBY_CFUNC] = "Ruby C method",
	[KIND_UNRESOLVED] = "unresolved",
	[KIND_TASK] = "async task",
};

struct name {
	size_t off; /* into names_buf */
	uint32_t len;
	uint32_t hash;
};

struct node {
	uint64_t count; /* samples in this node and below */
	uint64_t before; /* differential graphs: the count in the earlier profile */
	uint32_t name;
	uint32_t parent;
	uint32_t first_child;
	uint32_t next_sibling;
};

struct rt_flamegraph {
	char *title;
	char *subtitle;
	char *count_name;
	unsigned int width;
	double min_width;

	char *names_buf;
	size_t names_len, names_cap;
	struct name *names;
	uint32_t nr_names;
	size_t names_alloc;
	uint32_t *name_slots; /* open addressing: name id + 1, 0 = empty */
	uint32_t name_slots_mask;

	struct node *nodes; /* nodes[0] is the root */
	uint32_t nr_nodes;
	size_t nodes_alloc;
	uint32_t *child_slots; /* open addressing: node id + 1, 0 = empty */
	uint32_t child_slots_mask;
	bool diff;             /* rt_flamegraph__add_diff() was used: colour by change */
	uint64_t max_change;   /* largest |count - before| of a frame, when writing */
};

static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static uint32_t hash_child(uint32_t parent, uint32_t name)
{
	uint64_t k = ((uint64_t)parent << 32 | name) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(k >> 32);
}

static const char *name_str(const struct rt_flamegraph *fg, uint32_t id)
{
	return fg->names_buf + fg->names[id].off;
}

static char *dup_or_default(const char *s, const char *def)
{
	return strdup(s ? s : def);
}

struct rt_flamegraph *rt_flamegraph__new(const struct rt_flamegraph_opts *opts)
{
	struct rt_flamegraph_opts o = { .sz = sizeof(o) };
	struct rt_flamegraph *fg;

	if (opts) {
		/* Accept older, smaller opts structs; reject unknown non-zero tails. */
		size_t n = opts->sz < sizeof(o) ? opts->sz : sizeof(o);

		if (opts->sz < sizeof(size_t)) {
			errno = EINVAL;
			return NULL;
		}
		for (size_t i = sizeof(o); i < opts->sz; i++) {
			if (((const char *)opts)[i]) {
				errno = EINVAL;
				return NULL;
			}
		}
		memcpy(&o, opts, n);
	}
	if (o.width == 0)
		o.width = 1200;
	if (o.width < 4 * XPAD || o.width > 1000000 || !(o.min_width >= 0) || o.min_width > 1e6) {
		errno = EINVAL;
		return NULL;
	}
	if (o.min_width == 0)
		o.min_width = 0.1;

	fg = calloc(1, sizeof(*fg));
	if (!fg)
		return NULL;
	fg->title = dup_or_default(o.title, "Flame Graph");
	fg->subtitle = o.subtitle && *o.subtitle ? strdup(o.subtitle) : NULL;
	fg->count_name = dup_or_default(o.count_name && *o.count_name ? o.count_name : NULL,
					"samples");
	fg->width = o.width;
	fg->min_width = o.min_width;
	fg->nodes_alloc = 1024;
	fg->nodes = malloc(fg->nodes_alloc * sizeof(*fg->nodes));
	fg->child_slots_mask = 2047;
	fg->child_slots = calloc(fg->child_slots_mask + 1, sizeof(uint32_t));
	fg->name_slots_mask = 1023;
	fg->name_slots = calloc(fg->name_slots_mask + 1, sizeof(uint32_t));
	if (!fg->title || !fg->count_name || (o.subtitle && *o.subtitle && !fg->subtitle) ||
	    !fg->nodes || !fg->child_slots || !fg->name_slots) {
		rt_flamegraph__free(fg);
		errno = ENOMEM;
		return NULL;
	}
	fg->nodes[0] = (struct node){ .name = NONE, .parent = NONE,
				      .first_child = NONE, .next_sibling = NONE };
	fg->nr_nodes = 1;
	return fg;
}

void rt_flamegraph__free(struct rt_flamegraph *fg)
{
	if (!fg)
		return;
	free(fg->title);
	free(fg->subtitle);
	free(fg->count_name);
	free(fg->names_buf);
	free(fg->names);
	free(fg->name_slots);
	free(fg->nodes);
	free(fg->child_slots);
	free(fg);
}

/* Doubles id index @*slots (@*mask + 1 slots, each id + 1 or 0: free),
 * putting ids @first to @n - 1 back where @hash_of leads.  0 or -ENOMEM. */
static int grow_slots(const struct rt_flamegraph *fg, uint32_t **slots_p, uint32_t *mask_p,
		      uint32_t first, uint32_t n,
		      uint32_t (*hash_of)(const struct rt_flamegraph *fg, uint32_t id))
{
	uint32_t mask = *mask_p * 2 + 1;
	uint32_t *slots = calloc((size_t)mask + 1, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (uint32_t id = first; id < n; id++) {
		uint32_t i = hash_of(fg, id) & mask;

		while (slots[i])
			i = (i + 1) & mask;
		slots[i] = id + 1;
	}
	free(*slots_p);
	*slots_p = slots;
	*mask_p = mask;
	return 0;
}

static uint32_t name_hash(const struct rt_flamegraph *fg, uint32_t id)
{
	return fg->names[id].hash;
}

static uint32_t node_hash(const struct rt_flamegraph *fg, uint32_t id)
{
	return hash_child(fg->nodes[id].parent, fg->nodes[id].name);
}

/* Returns the id of the interned copy of s[0..len), or -errno. */
static int64_t intern(struct rt_flamegraph *fg, const char *s, size_t len)
{
	uint32_t h = hash_bytes(s, len), i, id;

	if (len > UINT32_MAX - 1)
		return -E2BIG;
	for (i = h & fg->name_slots_mask; fg->name_slots[i]; i = (i + 1) & fg->name_slots_mask) {
		const struct name *n = &fg->names[fg->name_slots[i] - 1];

		if (n->hash == h && n->len == len && !memcmp(fg->names_buf + n->off, s, len))
			return fg->name_slots[i] - 1;
	}
	if (fg->nr_names >= UINT32_MAX / 2)
		return -E2BIG;
	/* Keep the load factor under one half so probes stay short (and end). */
	if ((fg->nr_names + 1) * 2 > fg->name_slots_mask) {
		int err = grow_slots(fg, &fg->name_slots, &fg->name_slots_mask, 0, fg->nr_names,
				     name_hash);

		if (err)
			return err;
		return intern(fg, s, len);
	}
	if (RT_ARRAY_GROW(fg->names, fg->names_alloc, (size_t)fg->nr_names + 1, 256))
		return -ENOMEM;
	if (fg->names_cap - fg->names_len < len + 1) {
		size_t cap = fg->names_cap ? fg->names_cap : 4096;
		char *buf;

		while (cap - fg->names_len < len + 1)
			cap *= 2;
		buf = realloc(fg->names_buf, cap);
		if (!buf)
			return -ENOMEM;
		fg->names_buf = buf;
		fg->names_cap = cap;
	}
	id = fg->nr_names++;
	fg->names[id] = (struct name){ .off = fg->names_len, .len = (uint32_t)len, .hash = h };
	memcpy(fg->names_buf + fg->names_len, s, len);
	fg->names_buf[fg->names_len + len] = '\0';
	fg->names_len += len + 1;
	fg->name_slots[i] = id + 1;
	return id;
}

/* Returns the child of parent called name, creating it, or -errno. */
static int64_t child(struct rt_flamegraph *fg, uint32_t parent, uint32_t name)
{
	uint32_t i, id;

	for (i = hash_child(parent, name) & fg->child_slots_mask; fg->child_slots[i];
	     i = (i + 1) & fg->child_slots_mask) {
		const struct node *n = &fg->nodes[fg->child_slots[i] - 1];

		if (n->parent == parent && n->name == name)
			return fg->child_slots[i] - 1;
	}
	if (fg->nr_nodes >= UINT32_MAX / 2)
		return -E2BIG;
	if (RT_ARRAY_GROW(fg->nodes, fg->nodes_alloc, (size_t)fg->nr_nodes + 1, 1024))
		return -ENOMEM;
	if ((fg->nr_nodes + 1) * 2 > fg->child_slots_mask) {
		int err = grow_slots(fg, &fg->child_slots, &fg->child_slots_mask, 1, fg->nr_nodes,
				     node_hash);

		if (err)
			return err;
		return child(fg, parent, name);
	}
	id = fg->nr_nodes++;
	fg->nodes[id] = (struct node){ .name = name, .parent = parent, .first_child = NONE,
				       .next_sibling = fg->nodes[parent].first_child };
	fg->nodes[parent].first_child = id;
	fg->child_slots[i] = id + 1;
	return id;
}

/* Counts go on only once the whole path exists, so a failure mid-way leaves
 * at most some zero-count nodes, which are never drawn. */
static void add_count(struct rt_flamegraph *fg, uint32_t leaf, uint64_t count)
{
	for (uint32_t id = leaf; id != NONE; id = fg->nodes[id].parent)
		fg->nodes[id].count += count;
}

static int step(struct rt_flamegraph *fg, uint32_t *node, const char *s, size_t len)
{
	int64_t name = intern(fg, s, len), id;

	if (name < 0)
		return (int)name;
	id = child(fg, *node, (uint32_t)name);
	if (id < 0)
		return (int)id;
	*node = (uint32_t)id;
	return 0;
}

int rt_flamegraph__add(struct rt_flamegraph *fg, const char *const *frames,
		       size_t nr_frames, uint64_t count)
{
	uint32_t node = 0;
	int err;

	if (!fg || !frames || nr_frames == 0)
		return -EINVAL;
	for (size_t i = 0; i < nr_frames; i++)
		if (!frames[i])
			return -EINVAL;
	if (count > UINT64_MAX - fg->nodes[0].count)
		return -EOVERFLOW;
	if (count == 0)
		return 0;
	for (size_t i = 0; i < nr_frames; i++) {
		err = step(fg, &node, frames[i], strlen(frames[i]));
		if (err)
			return err;
	}
	add_count(fg, node, count);
	return 0;
}

int rt_flamegraph__add_diff(struct rt_flamegraph *fg, const char *const *frames,
			    size_t nr_frames, uint64_t before, uint64_t after)
{
	uint32_t node = 0;
	int err;

	if (!fg || !frames || nr_frames == 0)
		return -EINVAL;
	for (size_t i = 0; i < nr_frames; i++)
		if (!frames[i])
			return -EINVAL;
	if (after > UINT64_MAX - fg->nodes[0].count || before > UINT64_MAX - fg->nodes[0].before)
		return -EOVERFLOW;
	fg->diff = true;
	if (!before && !after)
		return 0;
	/* A stack that vanished still counts in its callers' change, on
	 * nodes of no width that are never drawn. */
	for (size_t i = 0; i < nr_frames; i++) {
		err = step(fg, &node, frames[i], strlen(frames[i]));
		if (err)
			return err;
	}
	add_count(fg, node, after);
	for (uint32_t id = node; id != NONE; id = fg->nodes[id].parent)
		fg->nodes[id].before += before;
	return 0;
}

int rt_flamegraph__add_folded(struct rt_flamegraph *fg, const char *line)
{
	const char *end, *sp, *p;
	uint64_t count = 0;
	uint32_t node = 0;
	int err;

	if (!fg || !line)
		return -EINVAL;
	end = line + strlen(line);
	while (end > line && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	for (sp = end; sp > line && sp[-1] != ' '; sp--)
		;
	if (sp == end || sp == line)
		return -EINVAL; /* no count, or no stack before it */
	for (p = sp; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (count > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		count = count * 10 + (uint64_t)(*p - '0');
	}
	/* The separator may be several blanks; frames keep inner spaces. */
	sp--;
	while (sp > line && (sp[-1] == ' ' || sp[-1] == '\t'))
		sp--;
	if (sp == line)
		return -EINVAL;
	if (count > UINT64_MAX - fg->nodes[0].count)
		return -EOVERFLOW;
	if (count == 0)
		return 0;
	for (p = line; p <= sp;) {
		const char *semi = memchr(p, ';', (size_t)(sp - p));

		if (!semi)
			semi = sp;
		err = step(fg, &node, p, (size_t)(semi - p));
		if (err)
			return err;
		p = semi + 1;
	}
	add_count(fg, node, count);
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

/* "func (file.py:12)" or, folded with --no-lines, "func (file.py)" style:
 * returns the length of "func", or 0 if s has no " (...<ext>[:<digits>])"
 * tail. */
static size_t source_tail(const char *s, size_t len, const char *ext)
{
	size_t i = len, ext_len = strlen(ext);

	if (len < 2 || s[len - 1] != ')')
		return 0;
	i = len - 1;
	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	if (i < len - 1) {
		if (i == 0 || s[i - 1] != ':')
			return 0;
		i--;
	}
	if (i < ext_len || memcmp(s + i - ext_len, ext, ext_len))
		return 0;
	while (i > 0 && s[i - 1] != '(')
		i--;
	if (i < 2 || s[i - 2] != ' ')
		return 0;
	return i - 2;
}

/*
 * Ruby methods written in C have no file: rtmerge names them "Array#each"
 * or, for singleton methods, "Zlib::Deflate.deflate".  No C symbol holds a
 * '#'; a constant-like owner before a '.' that is not a compiler suffix
 * (.isra, .part, .cold, .constprop) is the singleton form.
 */
static bool is_ruby_cfunc(const char *s, size_t len)
{
	const char *dot;

	if (memchr(s, '#', len))
		return len > 2 && s[0] != '#' && s[len - 1] != '#' && !memchr(s, ' ', len);
	if (len < 3 || s[0] < 'A' || s[0] > 'Z' || memchr(s, ' ', len))
		return false;
	dot = memchr(s, '.', len);
	if (!dot || dot == s + len - 1 || (dot[1] >= '0' && dot[1] <= '9'))
		return false;
	for (const char *p = s; p < dot; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == ':'))
			return false;
	static const char *const suffixes[] = { "isra", "part", "cold", "constprop", "lto_priv",
						"localalias", "clone" };
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (!strncmp(dot + 1, suffixes[i], strlen(suffixes[i])))
			return false;
	return memchr(dot + 1, '.', (size_t)(s + len - dot - 1)) == NULL;
}

/* Returns the kind of a frame and, in *key_len, how much of its name picks
 * the shade, so every line of one function gets one colour. */
static enum frame_kind classify(const char *s, size_t len, size_t *key_len)
{
	size_t n;

	*key_len = len;
	if (ends_with(s, len, "_[k]")) {
		*key_len = len - 4;
		return KIND_KERNEL;
	}
	if (ends_with(s, len, "_[j]")) {
		*key_len = len - 4;
		return KIND_JIT;
	}
	if ((n = source_tail(s, len, ".py"))) {
		*key_len = n;
		return KIND_PYTHON;
	}
	if ((n = source_tail(s, len, ".rb"))) {
		*key_len = n;
		return KIND_RUBY;
	}
	if (len > 7 && !memcmp(s, "[task] ", 7))
		return KIND_TASK; /* rt-bpf record --tasks */
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
		return KIND_UNRESOLVED;
	if (is_ruby_cfunc(s, len))
		return KIND_RUBY_CFUNC;
	if (len == 0 || !strcmp(s, "unknown"))
		return KIND_UNRESOLVED;
	return KIND_NATIVE;
}

struct rgb {
	unsigned char r, g, b;
};

static struct rgb frame_colour(enum frame_kind kind, const char *s, size_t key_len)
{
	uint32_t h = hash_bytes(s, key_len);
	double v1, v2, v3;

	/* One more mixing round: FNV's low bits vary little for similar names. */
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	v1 = (h & 0xff) / 255.0;
	v2 = ((h >> 8) & 0xff) / 255.0;
	v3 = ((h >> 16) & 0xff) / 255.0;
	switch (kind) {
	case KIND_KERNEL: /* orange */
		return (struct rgb){ 235 + 20 * v1, 130 + 45 * v2, 20 + 40 * v3 };
	case KIND_JIT: /* green */
		return (struct rgb){ 60 + 60 * v1, 175 + 55 * v2, 60 + 50 * v3 };
	case KIND_PYTHON: /* blue */
		return (struct rgb){ 70 + 50 * v1, 130 + 50 * v2, 210 + 45 * v3 };
	case KIND_RUBY: /* crimson, bluer than the hot palette's reds */
		return (struct rgb){ 180 + 40 * v1, 30 + 40 * v2, 90 + 40 * v3 };
	case KIND_RUBY_CFUNC: /* violet: Ruby, but C */
		return (struct rgb){ 150 + 40 * v1, 95 + 35 * v2, 200 + 45 * v3 };
	case KIND_UNRESOLVED: /* grey */
		return (struct rgb){ 170 + 30 * v1, 170 + 30 * v1, 170 + 30 * v1 };
	case KIND_TASK: /* teal: a marker, not code */
		return (struct rgb){ 40 + 30 * v1, 170 + 30 * v2, 160 + 30 * v3 };
	default: /* hot: red to yellow */
		return (struct rgb){ 205 + 50 * v3, 230 * v1, 55 * v2 };
	}
}

/* Bytes XML 1.0 cannot carry (invalid UTF-8, C0 controls, U+FFFE/F) become
 * U+FFFD: frame names come from untrusted files. */
static size_t utf8_char(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2; v = c & 0x1f; min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3; v = c & 0x0f; min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4; v = c & 0x07; min = 0x10000;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	if (len < n) {
		*cp = 0xfffd;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) || v == 0xfffe || v == 0xffff)
		v = 0xfffd;
	*cp = v;
	return n;
}

/* Writes at most max_chars characters of s (all if max_chars is SIZE_MAX). */
static void put_escaped(FILE *out, const char *str, size_t len, size_t max_chars)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, chars = 0, run = 0;

	while (i < len && chars < max_chars) {
		uint32_t cp;
		size_t n = utf8_char(s + i, len - i, &cp);
		const char *rep = NULL;

		switch (cp) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case 0xfffd: rep = "\xef\xbf\xbd"; break;
		default:
			if (cp < 0x20)
				rep = "\xef\xbf\xbd";
		}
		if (rep) {
			fwrite(s + i - run, 1, run, out);
			run = 0;
			fputs(rep, out);
		} else {
			run += n;
		}
		i += n;
		chars++;
	}
	fwrite(s + i - run, 1, run, out);
}

static size_t utf8_length(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, chars = 0;
	uint32_t cp;

	while (i < len) {
		i += utf8_char(s + i, len - i, &cp);
		chars++;
	}
	return chars;
}

static void put_count(FILE *out, uint64_t v)
{
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			fputc(',', out);
		fputc(digits[i], out);
	}
}

/* Fixed-point with two decimals; faster than printf and locale-proof. */
static void put_fixed2(FILE *out, double v)
{
	uint64_t c;

	if (!(v > 0))
		v = 0;
	c = (uint64_t)(v * 100 + 0.5);
	fprintf(out, "%" PRIu64 ".%02u", c / 100, (unsigned int)(c % 100));
}

struct layout {
	double inner; /* pixels for the whole count */
	uint64_t total;
	double min_count; /* narrower nodes are omitted */
	uint32_t max_depth;
	double top; /* y of the frames area */
	double height;
	double split_y; /* y of the lowest level that is not one full-width frame */
};

struct walk_item {
	uint32_t node;
	uint32_t depth;
	uint64_t start;
};

struct walk {
	struct walk_item *items;
	size_t nr, alloc;
	uint32_t *kids;
	size_t kids_alloc;
};

static int walk_push(struct walk *w, struct walk_item it)
{
	if (RT_ARRAY_GROW(w->items, w->alloc, w->nr + 1, 256))
		return -ENOMEM;
	w->items[w->nr++] = it;
	return 0;
}

static int cmp_names(const void *a, const void *b, void *arg)
{
	const struct rt_flamegraph *fg = arg;
	const struct node *x = &fg->nodes[*(const uint32_t *)a];
	const struct node *y = &fg->nodes[*(const uint32_t *)b];

	return strcmp(name_str(fg, x->name), name_str(fg, y->name));
}

/* Pushes the drawable children of it, left to right in byte order of their
 * names as flamegraph.pl lays them out; narrow siblings still take space. */
static int push_children(struct rt_flamegraph *fg, struct walk *w, const struct walk_item *it,
			 const struct layout *lay, bool sorted)
{
	size_t n = 0;
	uint64_t start = it->start;

	for (uint32_t c = fg->nodes[it->node].first_child; c != NONE; c = fg->nodes[c].next_sibling) {
		if (RT_ARRAY_GROW(w->kids, w->kids_alloc, n + 1, 64))
			return -ENOMEM;
		w->kids[n++] = c;
	}
	if (sorted && n > 1)
		qsort_r(w->kids, n, sizeof(*w->kids), cmp_names, fg);
	/* The stack pops the last push first, so push right to left. */
	for (size_t i = 0; i < n; i++)
		start += fg->nodes[w->kids[i]].count;
	for (size_t i = n; i-- > 0;) {
		const struct node *c = &fg->nodes[w->kids[i]];
		int err;

		start -= c->count;
		if (c->count == 0 || (double)c->count < lay->min_count)
			continue;
		err = walk_push(w, (struct walk_item){ w->kids[i], it->depth + 1, start });
		if (err)
			return err;
	}
	return 0;
}

/* First pass: how deep the drawn graph is and which kinds it shows. */
static int measure(struct rt_flamegraph *fg, struct walk *w, struct layout *lay,
		   bool kinds[KIND__COUNT])
{
	int err = walk_push(w, (struct walk_item){ 0, 0, 0 });

	while (!err && w->nr) {
		struct walk_item it = w->items[--w->nr];

		if (it.depth > lay->max_depth)
			lay->max_depth = it.depth;
		if (it.node) {
			const struct name *nm = &fg->names[fg->nodes[it.node].name];
			size_t key_len;

			kinds[classify(name_str(fg, fg->nodes[it.node].name), nm->len, &key_len)] = true;
		}
		err = push_children(fg, w, &it, lay, false);
	}
	return err;
}

/* Differential graphs: red for a frame that grew, blue for one that
 * shrank, the deeper the larger its change against the largest one. */
static struct rgb diff_colour(const struct rt_flamegraph *fg, const struct node *n)
{
	uint64_t change = n->count > n->before ? n->count - n->before : n->before - n->count;
	double ratio = fg->max_change ? (double)change / (double)fg->max_change : 0;
	unsigned char pale = (unsigned char)(235 - 200 * ratio);

	if (change == 0)
		return (struct rgb){ 235, 235, 235 };
	if (n->count > n->before)
		return (struct rgb){ 255, pale, pale };
	return (struct rgb){ pale, pale, 255 };
}

/* "; +1.25% change" (of the total) in a differential frame's title. */
static void put_change(FILE *out, const struct node *n, uint64_t total)
{
	bool grew = n->count >= n->before;
	uint64_t change = grew ? n->count - n->before : n->before - n->count;

	fputs(grew ? "; +" : "; -", out);
	put_fixed2(out, 100.0 * (double)change / (double)total);
	fputs("% change", out);
}

static void write_frame(struct rt_flamegraph *fg, FILE *out, const struct layout *lay,
			const struct walk_item *it)
{
	const struct node *n = &fg->nodes[it->node];
	const char *s = it->node ? name_str(fg, n->name) : "all";
	size_t len = it->node ? fg->names[n->name].len : 3, key_len, chars, fit;
	enum frame_kind kind = classify(s, len, &key_len);
	struct rgb c = frame_colour(kind, s, key_len);
	double x = XPAD + (double)it->start * lay->inner / (double)lay->total;
	double wpx = (double)n->count * lay->inner / (double)lay->total;
	double y = lay->top + (double)(lay->max_depth - it->depth) * FRAME_HEIGHT;

	if (fg->diff)
		c = diff_colour(fg, n);
	if (!it->node)
		c = (struct rgb){ 200, 200, 200 };
	fputs("<g class=\"f\" c=\"", out);
	fprintf(out, "%" PRIu64 "\"><title>", n->count);
	put_escaped(out, s, len, SIZE_MAX);
	fputs(" (", out);
	put_count(out, n->count);
	fputc(' ', out);
	put_escaped(out, fg->count_name, strlen(fg->count_name), SIZE_MAX);
	fputs(", ", out);
	put_fixed2(out, 100.0 * (double)n->count / (double)lay->total);
	fputc('%', out);
	if (fg->diff)
		put_change(out, n, lay->total);
	fputs(")</title><rect x=\"", out);
	put_fixed2(out, x);
	fputs("\" y=\"", out);
	put_fixed2(out, y);
	fputs("\" width=\"", out);
	put_fixed2(out, wpx);
	fprintf(out, "\" height=\"%d\" fill=\"rgb(%u,%u,%u)\" rx=\"2\" ry=\"2\"/><text x=\"",
		FRAME_HEIGHT - 1, c.r, c.g, c.b);
	put_fixed2(out, x + 3);
	fputs("\" y=\"", out);
	put_fixed2(out, y + FRAME_HEIGHT - 4.5);
	fputs("\">", out);
	/* Same fitting rule as fit() in flamegraph.js. */
	fit = wpx > 3 ? (size_t)((wpx - 3) / (FONT_SIZE * FONT_WIDTH)) : 0;
	if (fit >= 3) {
		chars = utf8_length(s, len);
		if (chars <= fit) {
			put_escaped(out, s, len, SIZE_MAX);
		} else {
			put_escaped(out, s, len, fit - 2);
			fputs("..", out);
		}
	}
	fputs("</text></g>\n", out);
}

static void write_header(struct rt_flamegraph *fg, FILE *out, const struct layout *lay)
{
	unsigned int w = fg->width;

	fprintf(out,
		"<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" "
		"height=\"%.0f\" viewBox=\"0 0 %u %.0f\" onload=\"fg_init(evt)\" "
		"data-total=\"%" PRIu64 "\" data-xpad=\"%d\" data-fs=\"%d\" data-fw=\"%.2f\" "
		"data-split-y=\"%.0f\" data-unit=\"",
		w, lay->height, w, lay->height, lay->total, XPAD, FONT_SIZE, FONT_WIDTH, lay->split_y);
	put_escaped(out, fg->count_name, strlen(fg->count_name), SIZE_MAX);
	fprintf(out, "\">\n"
		"<defs><linearGradient id=\"bg\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
		"<stop stop-color=\"#eeeeee\" offset=\"5%%\"/>"
		"<stop stop-color=\"#eeeeb0\" offset=\"95%%\"/></linearGradient></defs>\n"
		"<style type=\"text/css\">\n"
		"text { font-family: Verdana, sans-serif; font-size: %dpx; fill: #000; }\n"
		"#title { text-anchor: middle; font-size: %dpx; }\n"
		"#subtitle { text-anchor: middle; fill: #444; }\n"
		"#frames text { pointer-events: none; }\n"
		".f { cursor: pointer; }\n"
		".f:hover rect { stroke: #000; stroke-width: 0.5; }\n"
		"#frames.zoomed .f:not(.in) { display: none; }\n"
		".parent { opacity: 0.5; }\n"
		".btn { cursor: pointer; }\n"
		".btn:hover { fill: #06c; }\n"
		"#unzoom.off { opacity: 0; cursor: default; }\n"
		"#legend text, #total { fill: #333; }\n"
		"</style>\n"
		"<script type=\"text/ecmascript\"><![CDATA[\n",
		FONT_SIZE, FONT_SIZE + 5);
	fputs(rt_flamegraph_js, out);
	fprintf(out, "]]></script>\n"
		"<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%.0f\" fill=\"url(#bg)\"/>\n"
		"<text id=\"title\" x=\"%.1f\" y=\"%d\">",
		w, lay->height, w / 2.0, FONT_SIZE * 2);
	put_escaped(out, fg->title, strlen(fg->title), SIZE_MAX);
	fputs("</text>\n", out);
	if (fg->subtitle) {
		fprintf(out, "<text id=\"subtitle\" x=\"%.1f\" y=\"%d\">", w / 2.0, FONT_SIZE * 4);
		put_escaped(out, fg->subtitle, strlen(fg->subtitle), SIZE_MAX);
		fputs("</text>\n", out);
	}
	fprintf(out,
		"<text id=\"unzoom\" class=\"btn off\" x=\"%d\" y=\"%d\">Reset Zoom</text>\n"
		"<text id=\"search\" class=\"btn\" x=\"%d\" y=\"%d\" "
		"style=\"text-anchor:end\">Search</text>\n",
		XPAD, FONT_SIZE * 2, w - XPAD, FONT_SIZE * 2);
}

static void put_legend_item(FILE *out, unsigned int *x, double y, struct rgb c, const char *name)
{
	fprintf(out, "<rect x=\"%u\" y=\"%.1f\" width=\"12\" height=\"12\" "
		"fill=\"rgb(%u,%u,%u)\" rx=\"2\" ry=\"2\"/>"
		"<text x=\"%u\" y=\"%.1f\">%s</text>",
		*x, y - 10, c.r, c.g, c.b, *x + 16, y, name);
	*x += 16 + 10 + (unsigned int)(strlen(name) * FONT_SIZE * FONT_WIDTH);
}

static void write_footer(struct rt_flamegraph *fg, FILE *out, const struct layout *lay,
			 const bool kinds[KIND__COUNT])
{
	double y = lay->top + (double)(lay->max_depth + 1) * FRAME_HEIGHT;
	double details_y = y + FONT_SIZE * 1.5, legend_y = y + FONT_SIZE * 3.2;
	unsigned int x = XPAD;
	static const enum frame_kind order[] = { KIND_NATIVE, KIND_KERNEL, KIND_JIT, KIND_PYTHON,
						 KIND_RUBY, KIND_RUBY_CFUNC, KIND_UNRESOLVED, KIND_TASK };

	fprintf(out,
		"<text id=\"details\" x=\"%d\" y=\"%.1f\"> </text>\n"
		"<text id=\"matched\" x=\"%u\" y=\"%.1f\" style=\"text-anchor:end\"> </text>\n"
		"<g id=\"legend\">",
		XPAD, details_y, fg->width - XPAD, details_y);
	if (fg->diff) {
		put_legend_item(out, &x, legend_y, (struct rgb){ 255, 90, 90 }, "grew");
		put_legend_item(out, &x, legend_y, (struct rgb){ 90, 90, 255 }, "shrank");
		put_legend_item(out, &x, legend_y, (struct rgb){ 235, 235, 235 },
				"unchanged");
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && !fg->diff; i++) {
		struct rgb c;

		if (!kinds[order[i]])
			continue;
		/* A mid-palette shade stands for the whole kind. */
		switch (order[i]) {
		case KIND_KERNEL: c = (struct rgb){ 245, 152, 40 }; break;
		case KIND_JIT: c = (struct rgb){ 90, 202, 85 }; break;
		case KIND_PYTHON: c = (struct rgb){ 95, 155, 232 }; break;
		case KIND_RUBY: c = (struct rgb){ 200, 50, 110 }; break;
		case KIND_RUBY_CFUNC: c = (struct rgb){ 170, 112, 222 }; break;
		case KIND_UNRESOLVED: c = (struct rgb){ 185, 185, 185 }; break;
		case KIND_TASK: c = (struct rgb){ 55, 185, 175 }; break;
		default: c = (struct rgb){ 230, 115, 27 }; break;
		}
		put_legend_item(out, &x, legend_y, c, kind_names[order[i]]);
	}
	fprintf(out, "</g>\n<text id=\"total\" x=\"%u\" y=\"%.1f\" style=\"text-anchor:end\">"
		"Total: ", fg->width - XPAD, legend_y);
	put_count(out, lay->total);
	fputc(' ', out);
	put_escaped(out, fg->count_name, strlen(fg->count_name), SIZE_MAX);
	fputs("</text>\n</svg>\n", out);
}

/*
 * The depth of the lowest level that is not a single frame as wide as its
 * caller (where the stacks part): a graph taller than the window opens
 * with that level in view (flamegraph.js), not at the empty top.
 */
static uint32_t split_depth(const struct rt_flamegraph *fg)
{
	uint32_t node = 0, depth = 0;

	for (;;) {
		uint32_t kid = fg->nodes[node].first_child;

		if (kid == NONE)
			return depth;
		if (fg->nodes[kid].next_sibling != NONE || fg->nodes[kid].count != fg->nodes[node].count)
			return depth + 1;
		node = kid;
		depth++;
	}
}

int rt_flamegraph__write_svg(struct rt_flamegraph *fg, FILE *out)
{
	struct layout lay = { 0 };
	struct walk w = { 0 };
	bool kinds[KIND__COUNT] = { 0 };
	int err = 0;

	if (!fg || !out)
		return -EINVAL;
	lay.inner = fg->width - 2 * XPAD;
	lay.total = fg->nodes[0].count;
	lay.min_count = fg->min_width * (double)lay.total / lay.inner;
	lay.top = FONT_SIZE * (fg->subtitle ? 5 : 3);
	fg->max_change = 0;
	for (uint32_t id = 1; fg->diff && id < fg->nr_nodes; id++) {
		const struct node *n = &fg->nodes[id];
		uint64_t change = n->count > n->before ? n->count - n->before : n->before - n->count;

		if (change > fg->max_change)
			fg->max_change = change;
	}
	if (lay.total) {
		err = measure(fg, &w, &lay, kinds);
		if (err)
			goto out;
	}
	lay.height = lay.top + (double)(lay.max_depth + 1) * FRAME_HEIGHT + FONT_SIZE * 4;
	{
		uint32_t split = split_depth(fg);

		if (split > lay.max_depth)
			split = lay.max_depth;
		lay.split_y = lay.top + (double)(lay.max_depth - split) * FRAME_HEIGHT;
	}

	write_header(fg, out, &lay);
	fputs("<g id=\"frames\">\n", out);
	if (lay.total) {
		w.nr = 0;
		err = walk_push(&w, (struct walk_item){ 0, 0, 0 });
		while (!err && w.nr) {
			struct walk_item it = w.items[--w.nr];

			write_frame(fg, out, &lay, &it);
			err = push_children(fg, &w, &it, &lay, true);
		}
		if (err)
			goto out;
		fputs("</g>\n", out);
	} else {
		fprintf(out, "</g>\n<text x=\"%.1f\" y=\"%.1f\" style=\"text-anchor:middle\">"
			"No stack counts found</text>\n",
			fg->width / 2.0, lay.top + FRAME_HEIGHT - 4.5);
	}
	write_footer(fg, out, &lay, kinds);
	/* the write's own error (ENOSPC on a full disk), else EIO */
	errno = 0;
	if (fflush(out) || ferror(out))
		err = errno ? -errno : -EIO;
out:
	free(w.items);
	free(w.kids);
	return err;
}
