/* SPDX-License-Identifier: GPL-2.0-only */
/* Cheap Python values from object bytes (runtimes/python/value.h). */
#include <string.h>

#include "runtimes/python/value.h"

/* Bytes before @data in the object: ob_refcnt and ob_type. */
#define HEAD 16

static int64_t load64(const uint8_t *p)
{
	int64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A PyLongObject of one or two 30-bit digits: 3.x before 3.12 keeps the
 * signed digit count in ob_size, 3.12+ keeps lv_tag (digit count << 3, sign
 * in the low bits: 0 positive, 1 zero, 2 negative). */
static int long_value(int minor, const uint8_t *data, size_t size, int64_t *out)
{
	int64_t n = load64(data);
	uint32_t d[2];
	uint64_t mag;
	int neg;

	if (size < 16)
		return -1;
	if (minor >= 12) {
		uint64_t tag = (uint64_t)n;

		neg = (tag & 3) == 2;
		n = (tag & 3) == 1 ? 0 : (int64_t)(tag >> 3);
	} else {
		neg = n < 0;
		n = n < 0 ? -n : n;
	}
	if (n > 2)
		return -1;
	memcpy(d, data + 8, sizeof(d));
	mag = (n >= 1 ? d[0] & 0x3fffffff : 0) | (n == 2 ? (uint64_t)(d[1] & 0x3fffffff) << 30 : 0);
	*out = neg ? -(int64_t)mag : (int64_t)mag;
	return 0;
}

/* A compact ASCII str (3.3+) or a 2.7 str (PyStringObject, bytes), printable
 * or not, whole within the bytes read. */
static int str_value(const struct rt_layout_cpython *c, int major, const uint8_t *data, size_t size,
		     struct rt_pyvalue *v)
{
	uint32_t state;
	int64_t len;

	if (major == 2) {
		if (c->bytes_size == RT_LAYOUT_NONE || c->bytes_data == RT_LAYOUT_NONE ||
		    c->bytes_size < HEAD || c->bytes_size + 8 - HEAD > size || c->bytes_data < HEAD)
			return -1;
		len = load64(data + c->bytes_size - HEAD);
		if (len < 0 || (uint64_t)len > size || c->bytes_data - HEAD > size - (size_t)len)
			return -1;
		v->text = data + c->bytes_data - HEAD;
		v->len = (size_t)len;
		return 0;
	}
	if (c->unicode_state == RT_LAYOUT_NONE || c->unicode_length == RT_LAYOUT_NONE ||
	    c->unicode_ascii_data == RT_LAYOUT_NONE || c->unicode_state < HEAD ||
	    c->unicode_length < HEAD || c->unicode_ascii_data < HEAD ||
	    c->unicode_state + 4 - HEAD > size || c->unicode_length + 8 - HEAD > size)
		return -1;
	memcpy(&state, data + c->unicode_state - HEAD, sizeof(state));
	len = load64(data + c->unicode_length - HEAD);
	/* compact (bit 5) and ascii (bit 6) */
	if (!((state >> 5) & 1) || !((state >> 6) & 1) || len < 0 || (uint64_t)len > size ||
	    c->unicode_ascii_data - HEAD > size - (size_t)len)
		return -1;
	v->text = data + c->unicode_ascii_data - HEAD;
	v->len = (size_t)len;
	return 0;
}

enum rt_pyvalue_kind rt_pyvalue__decode(const struct rt_layout_cpython *c, int major, int minor,
					const char *type_name, const uint8_t *data, size_t size,
					struct rt_pyvalue *v)
{
	memset(v, 0, sizeof(*v));
	if (!strcmp(type_name, "NoneType")) {
		v->kind = RT_PYVALUE_NONE;
	} else if (!strcmp(type_name, "float") && size >= 8) {
		memcpy(&v->f, data, sizeof(v->f));
		v->kind = RT_PYVALUE_FLOAT;
	} else if (!strcmp(type_name, "int") || !strcmp(type_name, "bool")) {
		/* 2.7's int and bool are PyIntObjects: a C long */
		if (major == 2 ? size >= 8 && (v->i = load64(data), 1) :
				 !long_value(minor, data, size, &v->i))
			v->kind = type_name[0] == 'b' ? RT_PYVALUE_BOOL : RT_PYVALUE_INT;
		if (v->kind == RT_PYVALUE_BOOL)
			v->i = v->i != 0;
	} else if (!strcmp(type_name, "str") && !str_value(c, major, data, size, v)) {
		v->kind = RT_PYVALUE_STR;
	}
	return v->kind;
}
