// SPDX-License-Identifier: GPL-2.0-only
/* Running a BPF iterator program and reading what it writes (iter.h). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "rtbpf/iter.h"

int rt_bpf_iter__read(const struct bpf_program *prog, size_t rec_size, void **out, size_t *nr)
{
	size_t cap = 64 * rec_size, bytes = 0;
	struct bpf_link *link;
	char *buf = malloc(cap);
	int fd, err = 0;
	ssize_t got;

	*out = NULL;
	*nr = 0;
	if (!buf)
		return -ENOMEM;
	link = bpf_program__attach_iter(prog, NULL);
	if (!link) {
		err = -errno;
		goto out;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out_link;
	}
	for (;;) {
		if (bytes == cap) {
			char *more = realloc(buf, 2 * cap);

			if (!more) {
				err = -ENOMEM;
				break;
			}
			buf = more;
			cap *= 2;
		}
		got = read(fd, buf + bytes, cap - bytes);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			err = got < 0 ? -errno : 0;
			break;
		}
		bytes += (size_t)got;
	}
	close(fd);
	if (!err) {
		*out = buf;
		*nr = bytes / rec_size;
		buf = NULL;
	}
out_link:
	bpf_link__destroy(link);
out:
	free(buf);
	return err;
}
