# hq: one non-recursive GNU Makefile.
#   make            build build/hq and build/hq-replay
#   make deps       install missing Debian packages (apt-get; root or sudo)
#   make test       deps, build, unit tests, integration tests
#   make check      the same under ASan + UBSan (build dir build-san)
#   make demo       server + worker + a 1,000-task array on this machine
#   make static     build/hq-static: third-party libraries linked statically
#   make bench      benchmarks (QUICK=1 for the short suite)
#   make fuzz       libFuzzer targets (clang), FUZZ_RUNS (1,000,000) each
#   make fuzz-quick the same, 20,000 runs each (part of make test)
#   make format | format-check | lint | clean

BUILD    ?= build
CC       ?= gcc
CFLAGS   ?= -O2 -g
LDFLAGS  ?=
PYTHON   ?= /usr/bin/python3
V        ?= 0

PKGS     := lmdb hwloc libprotobuf-c openssl jansson
WARN     := -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wwrite-strings \
            -Wstrict-prototypes -Wmissing-prototypes -Wundef -Wvla
ifeq ($(WERROR),1)
WARN     += -Werror
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CPPFLAGS += -std=c11 -D_GNU_SOURCE -Isrc -I$(BUILD)/gen $(PKG_CFLAGS)
LIBS     := $(PKG_LIBS) -lev -lpthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ---- sources ----------------------------------------------------------
PROTO    := proto/hq.proto
GEN_C    := $(BUILD)/gen/hq.pb-c.c
GEN_H    := $(BUILD)/gen/hq.pb-c.h
MAIN_SRC := src/cli/main.c
LIB_SRC  := $(filter-out $(MAIN_SRC),$(sort $(wildcard src/common/*.c \
              src/journal/*.c src/server/*.c src/worker/*.c src/cli/*.c)))
REPLAY_SRC := $(sort $(wildcard tools/replay/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/hq.pb-c.o
LIB_A    := $(BUILD)/libhq.a
HQ       := $(BUILD)/hq
REPLAY   := $(BUILD)/hq-replay
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps test unit integration check demo static bench fuzz \
        fuzz-quick format format-check lint clean
all: $(HQ) $(REPLAY)

# ---- generated protobuf code --------------------------------------------
$(GEN_C) $(GEN_H) &: $(PROTO)
	@mkdir -p $(BUILD)/gen
	$(Q)protoc-c --proto_path=proto --c_out=$(BUILD)/gen $(PROTO)

$(BUILD)/obj/gen/hq.pb-c.o: $(GEN_C)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# ---- objects -----------------------------------------------------------
$(BUILD)/obj/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(HQ): $(BUILD)/obj/$(MAIN_SRC:.c=.o) $(LIB_A)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(REPLAY): $(REPLAY_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_A)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- dependencies (Debian) ---------------------------------------------
DEB_PKGS := build-essential pkg-config liblmdb-dev libev-dev libssl-dev \
            libprotobuf-c-dev protobuf-c-compiler libhwloc-dev libcmocka-dev \
            libjansson-dev libudev-dev openssl python3 python3-pytest \
            clang libclang-rt-14-dev clang-format
deps:
	@tools/install-deps.sh $(DEB_PKGS)

# ---- tests -------------------------------------------------------------
unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
	  HQ_TEST_DATA=$(CURDIR)/tests/data $$t >$$t.log 2>&1 \
	    && echo "PASS  $$(basename $$t)" \
	    || { echo "FAIL  $$(basename $$t)"; cat $$t.log; fail=1; }; \
	done; exit $$fail

integration: $(HQ) $(REPLAY)
	HQ_BIN=$(CURDIR)/$(HQ) HQ_REPLAY_BIN=$(CURDIR)/$(REPLAY) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests/integration

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) fuzz-quick
	$(MAKE) integration

SAN := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all \
       -fno-omit-frame-pointer
check: deps
	HQ_TEST_SANITIZED=1 \
	  $(MAKE) BUILD=build-san CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)" all unit integration

demo: deps
	$(MAKE) all
	@tools/demo.sh $(CURDIR)/$(HQ)

# ---- static binary -----------------------------------------------------
STATIC_LIBS := -Wl,-Bstatic -lssl -lcrypto -llmdb -lev -lprotobuf-c -lhwloc \
               -ljansson -Wl,-Bdynamic -ludev -lm -lpthread -ldl
static: $(BUILD)/obj/$(MAIN_SRC:.c=.o) $(LIB_A)
	$(Q)$(CC) $(LDFLAGS) -o $(BUILD)/hq-static $^ $(STATIC_LIBS)
	@echo "built $(BUILD)/hq-static"; ldd $(BUILD)/hq-static || true

# ---- benchmarks --------------------------------------------------------
bench: all $(BENCH_BIN)
	$(PYTHON) bench/run.py --build $(BUILD) $(if $(QUICK),--quick,)

# ---- fuzzing -----------------------------------------------------------
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_RUNS ?= 1000000
fuzz:
	@FUZZ_RUNS=$(FUZZ_RUNS) tools/fuzz.sh run $(FUZZ_SRC)
fuzz-quick:
	@tools/fuzz.sh quick $(FUZZ_SRC)

# ---- hygiene -----------------------------------------------------------
FMT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FMT_SRC)
format-check:
	@clang-format --dry-run --Werror $(FMT_SRC) && echo "format: ok"
lint:
	@tools/lint.sh

clean:
	rm -rf $(BUILD) build-san build-fuzz
