# SPDX-License-Identifier: GPL-2.0-only
# layouts/: interpreter struct offsets.  layouts/gen/cpython.c is generated
# by `make layouts` from the layout files in layouts/data, which structlayout
# writes from the DWARF of the pyenv builds on this machine (docs/layouts.md).
LIB_SRCS   += layouts/layout.c layouts/gen/cpython.c layouts/dwarftypes.c layouts/pyversion.c \
              layouts/layoutfile.c layouts/debugoffsets.c
UNIT_TESTS += layout
BIN_NAMES  += structlayout mergelayout

LAYOUT_PYENV_DIR ?= /root/.pyenv/versions
LAYOUT_PYENV_VERSIONS := 2.7.18 3.6.15 3.7.16 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0

$(BUILD)/structlayout: $(BUILD)/obj/layouts/structlayout.o $(BUILD)/librtperf.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mergelayout: $(BUILD)/obj/layouts/mergelayout.o $(BUILD)/librtperf.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Regenerates the layout files of the pyenv builds present, then the table
# from every layout file (data added by hand included).
layouts: $(BUILD)/structlayout $(BUILD)/mergelayout
	@bash scripts/layouts.sh $(BUILD) $(LAYOUT_PYENV_DIR) $(LAYOUT_PYENV_VERSIONS)
include layouts/ruby.mk
