/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * protobuf: the few pieces of the protocol buffers wire format the pprof
 * writer needs (varints, length-delimited fields, packed repeated fields,
 * nested messages), into a growing memory buffer.
 *
 * Errors are sticky, as a FILE's are: after an allocation fails every call
 * does nothing and rt_protobuf__error() says -ENOMEM, so a writer checks
 * once at the end.
 */
#ifndef RT_PROTOBUF_H
#define RT_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

struct rt_protobuf {
	uint8_t *data;
	size_t len, cap;
	int err;                /* 0 or -ENOMEM */
};

/* Wire types (protobuf encoding). */
enum {
	RT_PROTOBUF_VARINT = 0,
	RT_PROTOBUF_LEN = 2,
};

/* Starts an empty buffer; no allocation until the first write. */
void rt_protobuf__init(struct rt_protobuf *pb);
/* Frees the buffer; the struct may be initialized again. */
void rt_protobuf__exit(struct rt_protobuf *pb);
/* 0, or -ENOMEM when some write could not grow the buffer. */
int rt_protobuf__error(const struct rt_protobuf *pb);

/* A bare varint (LEB128, 1 to 10 bytes). */
void rt_protobuf__put_varint(struct rt_protobuf *pb, uint64_t value);
/* A field key: (field << 3) | wire_type. */
void rt_protobuf__put_key(struct rt_protobuf *pb, uint32_t field, unsigned int wire_type);
/* A uint64/int64/bool field (int64 as its two's complement: ten bytes when
 * negative, as protoc encodes it); zero is written too (callers leave
 * proto3 defaults out themselves when they want). */
void rt_protobuf__put_uint64(struct rt_protobuf *pb, uint32_t field, uint64_t value);
void rt_protobuf__put_int64(struct rt_protobuf *pb, uint32_t field, int64_t value);
/* A bytes or string field. */
void rt_protobuf__put_bytes(struct rt_protobuf *pb, uint32_t field, const void *data, size_t len);
/* A packed repeated uint64 field (nothing for n == 0). */
void rt_protobuf__put_packed(struct rt_protobuf *pb, uint32_t field, const uint64_t *values,
			     size_t n);

/*
 * A nested message: begin writes the key and returns a mark, end (with
 * that mark) puts the body's length in front of it.  Pairs nest.
 */
size_t rt_protobuf__begin(struct rt_protobuf *pb, uint32_t field);
void rt_protobuf__end(struct rt_protobuf *pb, size_t mark);

#endif
