# SPDX-License-Identifier: GPL-2.0-only
# The SVG flamegraph writer; its script is embedded from flamegraph.js as a
# C string generated at build time.

LIB_SRCS   += rtmerge/flamegraph.c
GEN_HDRS   += $(BUILD)/gen/rtmerge/flamegraph_js.h
UNIT_TESTS += flamegraph

$(BUILD)/gen/rtmerge/flamegraph_js.h: rtmerge/flamegraph.js rtmerge/flamegraph.mk
	@mkdir -p $(dir $@)
	@if grep -q ']]>' $<; then echo "$<: must not contain ]]>" >&2; exit 1; fi
	{ echo '/* Generated from rtmerge/flamegraph.js by rtmerge/flamegraph.mk. */'; \
	  echo 'static const char rt_flamegraph_js[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@.tmp && mv $@.tmp $@
