/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rubyvm: CRuby's VM loop (vm_exec, vm_exec_core) recognised by its code
 * in a libruby stripped to its exports (internal to symbolize/).
 */
#ifndef RT_RUBYVM_H
#define RT_RUBYVM_H

#include <libelf.h>

#include "symbolize/symtab.h"

/*
 * When @t (loaded from @elf) is libruby's and names no vm_exec_core, finds
 * vm_exec_core (and vm_exec where rb_vm_exec does not name it) from the
 * exported rb_iseq_eval_main and rb_iseq_eval, .eh_frame and the code,
 * and adds them to @t.  Returns how many functions it named (0: not
 * libruby, already named, or not recognised), or -errno.
 */
int rt_rubyvm__name(struct rt_symtab *t, Elf *elf);

#endif
