/* SPDX-License-Identifier: GPL-2.0-only */
#include <capstone/capstone.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bpf/rbproc.h"
#include "layouts/layout.h"
#include "bpf/record.h"

static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

struct rb_syms {
	uint64_t vm_ptr, version, id2str; /* st_value; 0 if absent */
	uint64_t first_load_vaddr;
	bool have_load;
};

/* Looks for ruby_current_vm_ptr, ruby_version and rb_id2str among the
 * dynamic symbols (Debian's libruby is stripped to .dynsym). */
static int elf_scan(const char *path, struct rb_syms *out)
{
	Elf_Scn *scn = NULL;
	size_t nphdr;
	Elf *elf;
	int fd, err = -ENOENT;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	if (!elf_getphdrnum(elf, &nphdr)) {
		for (size_t i = 0; i < nphdr; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0) {
				out->first_load_vaddr = ph.p_vaddr;
				out->have_load = true;
				break;
			}
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || (name[0] != 'r'))
				continue;
			if (!strcmp(name, "ruby_current_vm_ptr"))
				out->vm_ptr = sym.st_value;
			else if (!strcmp(name, "ruby_version"))
				out->version = sym.st_value;
			else if (!strcmp(name, "rb_id2str"))
				out->id2str = sym.st_value;
		}
	}
	if (out->vm_ptr && out->version && out->have_load)
		err = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

int rt_rbproc__inspect(pid_t pid, struct rt_rbproc *out)
{
	char maps_path[64], line[PATH_MAX + 128], exe_link[64], exe[PATH_MAX];
	FILE *maps;
	ssize_t n;
	int err = -ENOENT;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	snprintf(exe_link, sizeof(exe_link), "/proc/%d/exe", pid);
	n = readlink(exe_link, exe, sizeof(exe) - 1);
	if (n < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	exe[n] = '\0';
	snprintf(maps_path, sizeof(maps_path), "/proc/%d/maps", pid);
	maps = fopen(maps_path, "re");
	if (!maps)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), maps)) {
		unsigned long start, end, offset;
		char path[PATH_MAX], file[PATH_MAX + 64], ver[16] = { 0 };
		struct rb_syms syms;
		const char *base;
		uint64_t bias;

		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %4095s", &start, &end, &offset, path) != 4 ||
		    offset != 0 || path[0] != '/')
			continue;
		base = strrchr(path, '/') + 1;
		if (strcmp(path, exe) && !strstr(base, "libruby"))
			continue;
		snprintf(file, sizeof(file), "/proc/%d/map_files/%lx-%lx", pid, start, end);
		if (elf_scan(file, &syms) && elf_scan(path, &syms))
			continue;
		bias = start - (syms.first_load_vaddr & ~0xfffull);
		/* the version the library itself reports, not its file name */
		if (read_mem(pid, bias + syms.version, ver, sizeof(ver) - 1) ||
		    sscanf(ver, "%d.%d.%d", &out->major, &out->minor, &out->patch) != 3)
			continue;
		out->vm_ptr_addr = bias + syms.vm_ptr;
		out->id2str_addr = syms.id2str ? bias + syms.id2str : 0;
		snprintf(out->elf, sizeof(out->elf), "%s", path);
		err = 0;
		break;
	}
	fclose(maps);
	return err;
}

/* Does @addr look like the global symbol table: a plausible last serial and
 * an Array of Arrays of IDs? */
static bool symbols_plausible(pid_t pid, uint64_t addr, const struct rt_layout_ruby *l)
{
	uint32_t last = 0;
	uint64_t ids = 0, flags = 0;

	if (read_mem(pid, addr + l->symbols_last_id, &last, sizeof(last)) || last < 100 ||
	    last > (1u << 28) || read_mem(pid, addr + l->symbols_ids, &ids, sizeof(ids)) || !ids ||
	    (ids & 7) || read_mem(pid, ids, &flags, sizeof(flags)))
		return false;
	return (flags & l->t_mask) == l->t_array;
}

/*
 * rb_id2str tail-calls (or calls) the lookup that compares the ID's serial
 * with the table's last_id: the first RIP-relative operand there that
 * looks like the table is it.  The table is a hidden symbol, so this is the
 * way to it in a stripped libruby.
 */
static uint64_t find_symbols(pid_t pid, uint64_t id2str, const struct rt_layout_ruby *l)
{
	uint64_t funcs[2] = { id2str, 0 }, found = 0;
	csh cs;

	if (!id2str || cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return 0;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	for (int f = 0; f < 2 && funcs[f] && !found; f++) {
		uint8_t code[256];
		cs_insn *insn = NULL;
		size_t count;

		if (read_mem(pid, funcs[f], code, sizeof(code)))
			break;
		count = cs_disasm(cs, code, sizeof(code), funcs[f], 48, &insn);
		for (size_t i = 0; i < count && !found; i++) {
			cs_x86 *x = &insn[i].detail->x86;

			for (int k = 0; k < x->op_count; k++) {
				uint64_t target;

				if (x->operands[k].type == X86_OP_IMM &&
				    (insn[i].id == X86_INS_JMP || insn[i].id == X86_INS_CALL) && f == 0 &&
				    !funcs[1]) {
					funcs[1] = (uint64_t)x->operands[k].imm;
					continue;
				}
				if (x->operands[k].type != X86_OP_MEM || x->operands[k].mem.base != X86_REG_RIP)
					continue;
				target = insn[i].address + insn[i].size + (int64_t)x->operands[k].mem.disp;
				if (symbols_plausible(pid, target - l->symbols_last_id, l)) {
					found = target - l->symbols_last_id;
					break;
				}
			}
			if (f == 0 && (insn[i].id == X86_INS_JMP || insn[i].id == X86_INS_RET))
				break;
		}
		cs_free(insn, count);
	}
	cs_close(&cs);
	return found;
}

/* Returns nonzero when @l has an offset outside the headers read here. */
static int layout_fits_host(const struct rt_layout_ruby *l)
{
	return l->rarray_len >= 40 || l->rarray_ptr >= 40 || l->rstring_len >= 32 ||
	       l->rstring_ptr >= 32 || !l->id_entry_unit;
}

static int array_at(pid_t pid, const struct rt_layout_ruby *l, uint64_t ary, uint64_t i,
		    uint64_t *out)
{
	uint64_t hdr[5], len, ptr;

	if (!ary || (ary & 7) || read_mem(pid, ary, hdr, sizeof(hdr)) ||
	    (hdr[0] & l->t_mask) != l->t_array)
		return -EINVAL;
	if (hdr[0] & l->rarray_embed_flag) {
		len = (hdr[0] & l->rarray_embed_len_mask) >> l->rarray_embed_len_shift;
		ptr = ary + l->rarray_embed;
	} else {
		len = hdr[l->rarray_len / 8];
		ptr = hdr[l->rarray_ptr / 8];
	}
	if (i >= len)
		return -ERANGE;
	return read_mem(pid, ptr + i * 8, out, sizeof(*out));
}

static bool string_is(pid_t pid, const struct rt_layout_ruby *l, uint64_t str, const char *want)
{
	uint64_t hdr[4], len, ptr;
	char buf[32];

	if (!str || (str & 7) || read_mem(pid, str, hdr, sizeof(hdr)) ||
	    (hdr[0] & l->t_mask) != l->t_string)
		return false;
	if (hdr[0] & l->rstring_noembed) {
		len = hdr[l->rstring_len / 8];
		ptr = hdr[l->rstring_ptr / 8];
	} else {
		len = (hdr[0] & l->rstring_embed_len_mask) >> l->rstring_embed_len_shift;
		ptr = str + l->rstring_embed;
	}
	if (len != strlen(want) || len >= sizeof(buf) || read_mem(pid, ptr, buf, len))
		return false;
	return !memcmp(buf, want, len);
}

int rt_rbproc__resolve_symbols(struct rt_rbproc *proc, const struct rt_layout_ruby *l)
{
	uint32_t last = 0;
	uint64_t ids = 0, entry = 0;

	if (layout_fits_host(l))
		return -EINVAL;
	if (!proc->symbols_addr)
		proc->symbols_addr = find_symbols(proc->pid, proc->id2str_addr, l);
	if (!proc->symbols_addr)
		return -EAGAIN;
	if (proc->classpath_serial && proc->attached_serial)
		return 0;
	if (read_mem(proc->pid, proc->symbols_addr + l->symbols_last_id, &last, sizeof(last)) ||
	    read_mem(proc->pid, proc->symbols_addr + l->symbols_ids, &ids, sizeof(ids)))
		return -EFAULT;
	/* both are interned while the VM boots: early serials */
	for (uint64_t serial = 1; serial <= last && serial < 20000; serial++) {
		uint64_t str = 0;

		if (serial % l->id_entry_unit == 0 || !entry)
			if (array_at(proc->pid, l, ids, serial / l->id_entry_unit, &entry))
				break;
		if (array_at(proc->pid, l, entry, (serial % l->id_entry_unit) * l->id_entry_size, &str))
			continue;
		if (!proc->classpath_serial && string_is(proc->pid, l, str, "__classpath__"))
			proc->classpath_serial = (uint32_t)serial;
		else if (!proc->attached_serial && string_is(proc->pid, l, str, "__attached__"))
			proc->attached_serial = (uint32_t)serial;
		if (proc->classpath_serial && proc->attached_serial)
			return 0;
	}
	return -EAGAIN;
}

int rt_rbproc__walker_config(const struct rt_rbproc *proc, const struct rt_layout_ruby *l,
			     uint32_t generation, struct rt_ruby_walker_config *cfg)
{
	/* the walker reads a control frame and an iseq body in one piece each */
	if (l->cfp_size > RT_RUBY_CFP_READ || l->cfp_pc + 8 > l->cfp_size ||
	    l->cfp_iseq + 8 > l->cfp_size || l->cfp_ep + 8 > l->cfp_size ||
	    l->body_location_label + 8 > RT_RUBY_BODY_READ ||
	    l->body_location_pathobj + 8 > RT_RUBY_BODY_READ ||
	    l->body_location_first_lineno + 8 > RT_RUBY_BODY_READ ||
	    l->body_insns_info_body + 8 > RT_RUBY_BODY_READ ||
	    l->body_insns_info_positions + 8 > RT_RUBY_BODY_READ ||
	    l->body_insns_info_succ_index_table + 8 > RT_RUBY_BODY_READ ||
	    l->body_iseq_size + 4 > RT_RUBY_BODY_READ || l->body_insns_info_size + 4 > RT_RUBY_BODY_READ ||
	    l->env_me_cref != -2 || l->env_flags != 0 || l->me_called_id >= 40 || l->me_owner >= 40 ||
	    l->ec_cfp >= 24 || l->ec_vm_stack >= 24 || l->ec_vm_stack_size >= 24 ||
	    l->st_entries_start >= 56 || l->st_entries_bound >= 56 || l->st_entries >= 56 ||
	    l->st_entry_key != 8 || l->st_entry_record != 16 || layout_fits_host(l))
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->vm_ptr_addr = proc->vm_ptr_addr;
	cfg->symbols_addr = proc->symbols_addr;
	cfg->version = (uint32_t)proc->major << 16 | (uint32_t)proc->minor << 8 | (uint32_t)proc->patch;
	cfg->generation = generation;
	cfg->classpath_serial = proc->classpath_serial;
	cfg->attached_serial = proc->attached_serial;
	cfg->off = *l;
	return 0;
}

/* One process the tracker has looked at. */
struct tracked {
	pid_t pid;
	unsigned long long start_time; /* /proc/PID/stat field 22: tells reused pids apart */
	char exe[PATH_MAX];
	bool ruby;
	bool resolved;                 /* symbol table and serials found */
	bool reported;                 /* handed to found() at least once */
	unsigned int retries;          /* looks left (libruby not mapped yet, VM booting) */
	bool alive;
	uint32_t generation;
	struct rt_rbproc proc;
};

struct rt_rbproc_tracker {
	enum rt_rbproc_scope scope;
	pid_t *roots;
	size_t nr_roots;
	rt_rbproc_found_fn found;
	void *ctx;
	struct tracked *procs;
	size_t nr_procs, cap_procs;
	uint32_t generation;
};

struct rt_rbproc_tracker *rt_rbproc_tracker__new(enum rt_rbproc_scope scope, const pid_t *pids,
						 size_t nr_pids, rt_rbproc_found_fn found,
						 void *ctx)
{
	struct rt_rbproc_tracker *tr = calloc(1, sizeof(*tr));

	if (!tr)
		return NULL;
	tr->scope = scope;
	tr->found = found;
	tr->ctx = ctx;
	/* generations count down from the top so that they never equal one
	 * the CPython tracker hands out for the same pid */
	tr->generation = 0x80000000u;
	if (nr_pids) {
		tr->roots = calloc(nr_pids, sizeof(*pids));
		if (!tr->roots) {
			free(tr);
			errno = ENOMEM;
			return NULL;
		}
		memcpy(tr->roots, pids, nr_pids * sizeof(*pids));
		tr->nr_roots = nr_pids;
	}
	return tr;
}

void rt_rbproc_tracker__free(struct rt_rbproc_tracker *tr)
{
	if (!tr)
		return;
	free(tr->roots);
	free(tr->procs);
	free(tr);
}

static int read_stat(pid_t pid, pid_t *ppid, unsigned long long *start_time)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
			 ppid, start_time) != 2)
		return -EIO;
	return 0;
}

static bool is_root(const struct rt_rbproc_tracker *tr, pid_t pid)
{
	for (size_t i = 0; i < tr->nr_roots; i++)
		if (tr->roots[i] == pid)
			return true;
	return false;
}

static void check(struct rt_rbproc_tracker *tr, struct tracked *t)
{
	const struct rt_layout *lv;

	if (!t->ruby) {
		if (rt_rbproc__inspect(t->pid, &t->proc))
			return;
		t->ruby = true;
		t->generation = ++tr->generation;
		t->retries = 50; /* 5 s at the usual rescan period for the VM to boot */
	}
	lv = rt_layout__find(RT_RUNTIME_RUBY, t->proc.major, t->proc.minor, t->proc.patch);
	if (lv && !rt_rbproc__resolve_symbols(&t->proc, &lv->ruby)) {
		/* C methods met before the symbol table was found were sent
		 * without names: a new generation makes the walker send them
		 * again */
		if (t->reported)
			t->generation = ++tr->generation;
		t->resolved = true;
	}
	if (t->resolved || !lv || t->retries == 50 || t->retries == 1) {
		tr->found(tr->ctx, t->pid, &t->proc, t->generation);
		t->reported = true;
	}
	if (t->resolved || !lv)
		t->retries = 0;
}

int rt_rbproc_tracker__scan(struct rt_rbproc_tracker *tr)
{
	struct { pid_t pid, ppid; unsigned long long start; } *all = NULL;
	size_t nr_all = 0, cap_all = 0;
	struct dirent *de;
	DIR *dir;
	int count = 0;

	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10), ppid;
		unsigned long long start;

		if (pid <= 0 || read_stat(pid, &ppid, &start))
			continue;
		if (nr_all == cap_all) {
			size_t ncap = cap_all ? cap_all * 2 : 512;
			void *n = realloc(all, ncap * sizeof(*all));

			if (!n) {
				closedir(dir);
				free(all);
				return -ENOMEM;
			}
			all = n;
			cap_all = ncap;
		}
		all[nr_all].pid = pid;
		all[nr_all].ppid = ppid;
		all[nr_all].start = start;
		nr_all++;
	}
	closedir(dir);

	for (size_t i = 0; i < tr->nr_procs; i++)
		tr->procs[i].alive = false;
	for (size_t i = 0; i < nr_all; i++) {
		pid_t pid = all[i].pid;
		char link[64], exe[PATH_MAX];
		struct tracked *t = NULL;
		bool in_scope;
		ssize_t n;

		in_scope = tr->scope == RT_RBPROC_ALL || is_root(tr, pid);
		if (!in_scope && tr->scope == RT_RBPROC_TREE) {
			pid_t p = all[i].ppid;

			for (int depth = 0; depth < 64 && p > 1 && !in_scope; depth++) {
				size_t k;

				if (is_root(tr, p)) {
					in_scope = true;
					break;
				}
				for (k = 0; k < nr_all && all[k].pid != p; k++)
					;
				p = k < nr_all ? all[k].ppid : 0;
			}
		}
		if (!in_scope || pid == getpid())
			continue;
		snprintf(link, sizeof(link), "/proc/%d/exe", pid);
		n = readlink(link, exe, sizeof(exe) - 1);
		if (n < 0)
			continue;
		exe[n] = '\0';
		for (size_t k = 0; k < tr->nr_procs; k++)
			if (tr->procs[k].pid == pid)
				t = &tr->procs[k];
		if (t && (t->start_time != all[i].start || strcmp(t->exe, exe))) {
			if (t->ruby)
				tr->found(tr->ctx, pid, NULL, 0);
			*t = tr->procs[--tr->nr_procs];
			t = NULL;
		}
		if (!t) {
			const char *base = strrchr(exe, '/');

			if (tr->nr_procs == tr->cap_procs) {
				size_t ncap = tr->cap_procs ? tr->cap_procs * 2 : 64;
				struct tracked *np = realloc(tr->procs, ncap * sizeof(*np));

				if (!np)
					continue;
				tr->procs = np;
				tr->cap_procs = ncap;
			}
			t = &tr->procs[tr->nr_procs++];
			memset(t, 0, sizeof(*t));
			t->pid = pid;
			t->start_time = all[i].start;
			snprintf(t->exe, sizeof(t->exe), "%s", exe);
			/* an executable named ruby* may not have mapped libruby yet */
			t->retries = base && strstr(base, "ruby") ? 20 : 0;
			check(tr, t);
		} else if (t->retries) {
			t->retries--;
			check(tr, t);
		}
		t->alive = true;
	}
	free(all);
	for (size_t i = 0; i < tr->nr_procs;) {
		if (!tr->procs[i].alive) {
			if (tr->procs[i].ruby)
				tr->found(tr->ctx, tr->procs[i].pid, NULL, 0);
			tr->procs[i] = tr->procs[--tr->nr_procs];
			continue;
		}
		count += tr->procs[i].ruby;
		i++;
	}
	return count;
}
