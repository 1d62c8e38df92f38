# sluice — build, test, bench and run. `make help` lists the targets.
#
# Variants live in their own build directories so they never mix objects:
#   build/        release (-O2, guard-page memories)
#   build-asan/   ASan + UBSan (tests in CI)
#   build-check/  explicit bounds checks instead of guard pages (SL_MEMCHECK_EXPLICIT)

CC       ?= cc
BUILD    ?= build
OPT      ?= -O2
SAN      ?=
DEFS     ?=
WERROR   ?=
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Wno-unused-parameter $(WERROR)
CFLAGS_ALL = $(CSTD) $(OPT) -g $(WARN) $(SAN) $(DEFS) -Iinclude -MMD -MP
GW_LIBS  := -luv -lssl -lcrypto -lpcre2-8 -lyaml -lhiredis
LDLIBS   := $(GW_LIBS) -lm -lpthread

# Layers, bottom up. Each layer sees include/ plus the layers below it.
UTIL_SRC := $(wildcard src/util/*.c)
VM_SRC   := $(wildcard src/vm/*.c)
AOT_SRC  := $(wildcard src/aot/*.c)
WASI_SRC := $(wildcard src/wasi/*.c)
WAGI_SRC := $(wildcard src/wagi/*.c)
PW_SRC   := $(wildcard src/proxywasm/*.c)
GW_SRC   := $(wildcard src/gateway/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)

UTIL_OBJ := $(UTIL_SRC:%.c=$(BUILD)/%.o)
VM_OBJ   := $(VM_SRC:%.c=$(BUILD)/%.o)
AOT_OBJ  := $(AOT_SRC:%.c=$(BUILD)/%.o)
WASI_OBJ := $(WASI_SRC:%.c=$(BUILD)/%.o)
WAGI_OBJ := $(WAGI_SRC:%.c=$(BUILD)/%.o)
PW_OBJ   := $(PW_SRC:%.c=$(BUILD)/%.o)
GW_OBJ   := $(GW_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB_OBJ  := $(UTIL_OBJ) $(VM_OBJ) $(AOT_OBJ) $(WASI_OBJ) $(WAGI_OBJ) $(PW_OBJ) $(GW_OBJ)

$(BUILD)/src/util/%.o: CFLAGS_LAYER := -Isrc/util
$(BUILD)/src/vm/%.o:   CFLAGS_LAYER := -Isrc/util -Isrc/vm
$(BUILD)/src/aot/%.o:  CFLAGS_LAYER := -Isrc/util -Isrc/vm -Isrc/aot
$(BUILD)/src/wasi/%.o: CFLAGS_LAYER := -Isrc/util -Isrc/wasi
$(BUILD)/src/wagi/%.o: CFLAGS_LAYER := -Isrc/util -Isrc/wasi -Isrc/wagi
$(BUILD)/src/proxywasm/%.o: CFLAGS_LAYER := -Isrc/util -Isrc/wasi -Isrc/proxywasm
$(BUILD)/src/gateway/%.o: CFLAGS_LAYER := -Isrc/util -Isrc/wasi -Isrc/wagi -Isrc/proxywasm -Isrc/gateway
$(BUILD)/src/cli/%.o:  CFLAGS_LAYER := -Isrc/util -Isrc/wasi -Isrc/wagi -Isrc/proxywasm -Isrc/gateway -Isrc/cli
# The interpreter's frame set-up loops must stay loops (see sl_interp.c).
IS_CLANG := $(findstring clang,$(shell $(CC) --version 2>/dev/null))
$(BUILD)/src/vm/sl_interp.o: CFLAGS_LAYER += $(if $(IS_CLANG),,-fno-tree-loop-distribute-patterns)

# Wasm guests (examples, tests, bench kernels), built with Debian's clang.
WASM_CC    := clang --target=wasm32-wasi --sysroot=/usr
WASM_CFLAGS:= -O2
WASM_OUT   := build/wasm
EXAMPLE_WASM := $(patsubst examples/%.c,$(WASM_OUT)/examples/%.wasm,$(wildcard examples/*.c))
TEST_WASM    := $(patsubst tests/wasi/%.c,$(WASM_OUT)/tests/%.wasm,$(wildcard tests/wasi/*.c))
# proxy-wasm test guests: C reactors against the raw ABI, and WAT modules. They
# are linked without -O so clang does not run wasm-opt, which drops the name
# section the trap backtraces need.
PW_TEST_WASM := $(patsubst tests/proxywasm/guests/%.c,$(WASM_OUT)/tests/proxywasm/%.wasm,$(wildcard tests/proxywasm/guests/*.c)) \
                $(patsubst tests/proxywasm/guests/%.wat,$(WASM_OUT)/tests/proxywasm/%.wasm,$(wildcard tests/proxywasm/guests/*.wat))
# proxy-wasm plugins in C (plugins/<name>/<name>.c) on the guest SDK (sdk/c).
SDK_C_SRC    := $(wildcard sdk/c/*.c)
SDK_C_HDR    := $(wildcard sdk/c/*.h)
PLUGIN_NAMES := $(notdir $(wildcard plugins/*))
PLUGIN_WASM  := $(foreach p,$(PLUGIN_NAMES),$(WASM_OUT)/plugins/$(p).wasm)
PLUGIN_CFLAGS:= -O2 -mexec-model=reactor -Wall -Wextra -Werror -Isdk/c

.PHONY: all deps deps-check run run-wasm test test-asan test-check bench fuzz clean help wasm plugins

all: deps-check $(BUILD)/sluice $(PLUGIN_WASM)

help:
	@echo "make            build build/sluice (release)"
	@echo "make run        run the gateway with examples/gateway.yaml (http://127.0.0.1:8080/)"
	@echo "make run-wasm   run the bundled example WASI program with sluice"
	@echo "make plugins    build the C proxy-wasm plugins into build/wasm/plugins/"
	@echo "make test       build and run every test (ends with 'N passed, N failed')"
	@echo "make test-asan  the test suite on an ASan+UBSan build (build-asan/)"
	@echo "make test-check the test suite on the explicit-bounds-check build (build-check/)"
	@echo "make bench      compute kernels (native vs node vs sluice interpreter vs sluice AOT), then the gateway, WAGI and plugin benches"
	@echo "make bench-gateway  gateway vs nginx as reverse proxy: req/s, latency, CPU, memory"
	@echo "make bench-wagi     WAGI route (fresh instance per request) vs direct response; cold start"
	@echo "make bench-plugins  cost of each proxy-wasm plugin on the request path (req/s, latency, CPU, memory), interpreter and AOT"
	@echo "make bench-aot      AOT compile time (s/MB, --jobs 1 and 2, kernels and ~2 MB modules) and cached-artifact load time"
	@echo "make fuzz       build libFuzzer targets and run each briefly"
	@echo "make deps       install the Debian packages sluice needs (root)"
	@echo "make clean      remove build directories"

deps:
	@scripts/deps.sh

deps-check:
	@scripts/deps.sh --if-missing

$(BUILD)/sluice: $(CLI_OBJ) $(BUILD)/libsluice.a
	$(CC) $(SAN) -o $@ $(CLI_OBJ) $(BUILD)/libsluice.a $(LDLIBS)

$(BUILD)/libsluice.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The AOT compiler embeds the headers generated C includes (.incbin).
$(BUILD)/src/aot/sl_aot_files.o: include/sluice/vm.h src/vm/sl_native.h src/vm/sl_numeric.h \
                                 src/vm/sl_ops.def src/aot/sl_aot_prelude.h

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(CFLAGS_LAYER) -c $< -o $@

wasm: deps-check $(EXAMPLE_WASM) $(TEST_WASM) $(PW_TEST_WASM) $(PLUGIN_WASM)

$(WASM_OUT)/examples/%.wasm: examples/%.c
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_CFLAGS) $< -o $@

$(WASM_OUT)/tests/%.wasm: tests/wasi/%.c
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_CFLAGS) $< -o $@

$(WASM_OUT)/tests/proxywasm/%.wasm: tests/proxywasm/guests/%.c
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_CFLAGS) -c $< -o $@.o
	$(WASM_CC) -mexec-model=reactor $@.o -o $@
	@rm -f $@.o

$(WASM_OUT)/tests/proxywasm/%.wasm: tests/proxywasm/guests/%.wat
	@mkdir -p $(dir $@)
	wat2wasm $< -o $@

.SECONDEXPANSION:
$(WASM_OUT)/plugins/%.wasm: $$(wildcard plugins/%/*.c plugins/%/*.h) $(SDK_C_SRC) $(SDK_C_HDR)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(PLUGIN_CFLAGS) $(wildcard plugins/$*/*.c) $(SDK_C_SRC) -o $@

plugins: $(PLUGIN_WASM)

run: all
	$(BUILD)/sluice gateway -c examples/gateway.yaml

run-wasm: all wasm
	$(BUILD)/sluice run --dir examples::/data $(WASM_OUT)/examples/hello.wasm world

test: all wasm
	@BUILD=$(BUILD) CC="$(CC)" SAN="$(SAN)" DEFS="$(DEFS)" tests/run.sh

test-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CC=clang OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" test

test-check:
	@$(MAKE) --no-print-directory BUILD=build-check DEFS=-DSL_MEMCHECK_EXPLICIT test

bench: all
	@BUILD=$(BUILD) bench/run.sh

.PHONY: bench-gateway bench-wagi bench-plugins bench-aot
bench-gateway: all
	@BUILD=$(BUILD) bench/gateway.sh

bench-wagi: all
	@BUILD=$(BUILD) bench/wagi.sh

bench-plugins: all
	@BUILD=$(BUILD) bench/plugins.sh

bench-aot: all
	@BUILD=$(BUILD) bench/aot.sh

fuzz: deps-check
	@BUILD=$(BUILD) tests/fuzz/run.sh

clean:
	rm -rf build build-asan build-check build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
