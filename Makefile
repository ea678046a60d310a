# floe build. `make` builds build/release/{libfloe.a,floe}; `make test` runs the
# whole suite (release and ASan+UBSan builds); `make demo` runs the main job.
# Missing Debian packages (deps.txt) are installed first (root or sudo).

MODE ?= release
B := build/$(MODE)
CC ?= cc
PKGS := libzstd snappy zlib liblz4 libxxhash jansson libbrotlienc libbrotlidec sqlite3 rdkafka yaml-0.1 libedit
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lzstd -lsnappy -lz -llz4 -lxxhash -ljansson -lbrotlienc -lbrotlidec -lsqlite3 -lrdkafka -lyaml -ledit)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
ifeq ($(CI),true)
WARN += -Werror
endif
ifeq ($(WERROR),1)
WARN += -Werror
endif
BASE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -Iinclude -Isrc -Itests -MMD -MP
ifeq ($(MODE),asan)
OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -DFLOE_ASAN=1
LDOPT := -fsanitize=address,undefined
else
OPT := -O2 -g
LDOPT :=
endif
CFLAGS_ALL = $(BASE_CFLAGS) $(OPT) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(LDOPT) $(PKG_LIBS) -lm $(LDFLAGS)

LIB_SRC := $(wildcard src/util/*.c src/parquet/*.c src/avro/*.c src/iceberg/*.c src/ingest/*.c src/engine/*.c src/pipeline/*.c src/sql/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/*.c tests/*/*.c)
BENCH_SRC := $(wildcard bench/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/%.o)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

.PHONY: all deps build test demo bench fuzz clean headers
all: deps
	@$(MAKE) --no-print-directory build

deps:
	@scripts/deps.sh build

build: $(B)/libfloe.a $(B)/floe $(B)/floe-tests $(BENCH_BIN) headers

$(B)/libfloe.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(B)/floe: $(CLI_OBJ) $(B)/libfloe.a
	$(CC) $(OPT) -o $@ $(CLI_OBJ) $(B)/libfloe.a $(LDLIBS_ALL)

$(B)/floe-tests: $(TEST_OBJ) $(filter-out $(B)/src/cli/main.o,$(CLI_OBJ)) $(B)/libfloe.a
	$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL)

$(B)/bench/%: bench/%.c $(B)/libfloe.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libfloe.a $(LDLIBS_ALL)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

# Every public header compiles on its own (libgit2's rule).
HDRS := $(wildcard include/floe/*.h)
headers: $(HDRS:include/floe/%.h=$(B)/hdr/%.ok)
$(B)/hdr/%.ok: include/floe/%.h
	@mkdir -p $(dir $@)
	@echo '#include "floe/$*.h"' | $(CC) -std=c11 $(WARN) -Iinclude -x c -fsyntax-only - && touch $@

test:
	@scripts/test.sh

demo:
	@scripts/demo.sh

bench: all
	@scripts/bench.sh

fuzz:
	@scripts/fuzz.sh

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
