/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What layouts/ruby_offsets.c needs from a Ruby source tree that ships no
 * rb_mjit_min_header (3.3): the VM's private headers, compiled against the
 * tree's include/ and the config.h of the same build (its -dev package).
 * layouts/ruby_gen.sh passes this with -include.
 */
#include "ruby/internal/config.h"
#include "vm_core.h"
#include "iseq.h"
#include "method.h"
#include "internal/class.h"
#include "internal/string.h"
#include "ractor_core.h"
