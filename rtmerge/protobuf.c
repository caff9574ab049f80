/* SPDX-License-Identifier: GPL-2.0-only */
#include "rtmerge/protobuf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void rt_protobuf__init(struct rt_protobuf *pb)
{
	memset(pb, 0, sizeof(*pb));
}

void rt_protobuf__exit(struct rt_protobuf *pb)
{
	free(pb->data);
	memset(pb, 0, sizeof(*pb));
}

int rt_protobuf__error(const struct rt_protobuf *pb)
{
	return pb->err;
}

static bool reserve(struct rt_protobuf *pb, size_t more)
{
	size_t cap = pb->cap ? pb->cap : 4096;
	uint8_t *p;

	if (pb->err)
		return false;
	if (more > SIZE_MAX / 2 - pb->len) {
		pb->err = -ENOMEM;
		return false;
	}
	if (pb->len + more <= pb->cap)
		return true;
	while (cap < pb->len + more)
		cap *= 2;
	p = realloc(pb->data, cap);
	if (!p) {
		pb->err = -ENOMEM;
		return false;
	}
	pb->data = p;
	pb->cap = cap;
	return true;
}

static size_t encode_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

void rt_protobuf__put_varint(struct rt_protobuf *pb, uint64_t value)
{
	if (reserve(pb, 10))
		pb->len += encode_varint(pb->data + pb->len, value);
}

void rt_protobuf__put_key(struct rt_protobuf *pb, uint32_t field, unsigned int wire_type)
{
	rt_protobuf__put_varint(pb, (uint64_t)field << 3 | wire_type);
}

void rt_protobuf__put_uint64(struct rt_protobuf *pb, uint32_t field, uint64_t value)
{
	rt_protobuf__put_key(pb, field, RT_PROTOBUF_VARINT);
	rt_protobuf__put_varint(pb, value);
}

void rt_protobuf__put_int64(struct rt_protobuf *pb, uint32_t field, int64_t value)
{
	rt_protobuf__put_uint64(pb, field, (uint64_t)value);
}

void rt_protobuf__put_bytes(struct rt_protobuf *pb, uint32_t field, const void *data, size_t len)
{
	rt_protobuf__put_key(pb, field, RT_PROTOBUF_LEN);
	rt_protobuf__put_varint(pb, len);
	if (len && reserve(pb, len)) {
		memcpy(pb->data + pb->len, data, len);
		pb->len += len;
	}
}

void rt_protobuf__put_packed(struct rt_protobuf *pb, uint32_t field, const uint64_t *values,
			     size_t n)
{
	size_t mark;

	if (!n)
		return;
	mark = rt_protobuf__begin(pb, field);
	for (size_t i = 0; i < n; i++)
		rt_protobuf__put_varint(pb, values[i]);
	rt_protobuf__end(pb, mark);
}

size_t rt_protobuf__begin(struct rt_protobuf *pb, uint32_t field)
{
	rt_protobuf__put_key(pb, field, RT_PROTOBUF_LEN);
	return pb->len;
}

void rt_protobuf__end(struct rt_protobuf *pb, size_t mark)
{
	uint8_t prefix[10];
	size_t body, n;

	if (pb->err)
		return;
	/* The body is written first, its length moved in front once known:
	 * one memmove per message instead of a pass that sizes everything. */
	body = pb->len - mark;
	n = encode_varint(prefix, body);
	if (!reserve(pb, n))
		return;
	memmove(pb->data + mark + n, pb->data + mark, body);
	memcpy(pb->data + mark, prefix, n);
	pb->len += n;
}
