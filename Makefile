# A thin front door over meson. Everything real lives in meson.build files.
#
#   make test    install missing build dependencies, configure, build, run all tests
#   make demo    same set-up, then run the built-in simulated team
#   make asan    the tests again under AddressSanitizer + UndefinedBehaviorSanitizer
#   make clean   remove the build directories

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON      ?= meson
NINJA      ?= ninja
MESON_SETUP_ARGS ?=
# Warnings are errors here and in CI; the build's own default leaves them
# warnings so that a packager's newer compiler cannot break the build.
WERROR     ?= -Dwerror=true

# Make sanitizer findings fatal and readable (meson test keeps these if set).
export ASAN_OPTIONS  ?= halt_on_error=1:abort_on_error=1:print_summary=1:detect_leaks=1
export UBSAN_OPTIONS ?= halt_on_error=1:abort_on_error=1:print_summary=1:print_stacktrace=1

comma := ,

.PHONY: all deps build test demo asan clean

all: build

deps:
	@bash .ci/deps.sh

# Configure once (deps first; order-only, so it never makes the
# configuration stale). A half-configured directory is wiped and redone.
setup = if [ -f $(1)/meson-private/coredata.dat ]; then \
	    $(MESON) setup --wipe $(1) $(2); else $(MESON) setup $(1) $(2); fi

$(BUILD)/build.ninja: | deps
	$(call setup,$(BUILD),$(WERROR) $(MESON_SETUP_ARGS))

build: deps $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

test: build
	$(MESON) test -C $(BUILD) --print-errorlogs

demo: build
	./$(BUILD)/bindings/cli/agentcredit demo

$(ASAN_BUILD)/build.ninja: | deps
	$(call setup,$(ASAN_BUILD),-Db_sanitize=address$(comma)undefined -Db_lundef=false $(WERROR) $(MESON_SETUP_ARGS))

asan: deps $(ASAN_BUILD)/build.ninja
	$(NINJA) -C $(ASAN_BUILD)
	$(MESON) test -C $(ASAN_BUILD) --print-errorlogs

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-clang
