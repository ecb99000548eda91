# fanotifyd - see README.md. Targets: all test integration check sanitize fuzz fuzz-regress
# install uninstall completion demo deps
# Install layout (make install; README "Running as a service"). SYSCONFDIR, LOGDIR and
# RUNDIR do not follow PREFIX: the daemon and logrotate look in /etc, /var/log and /run
# whatever the prefix; the installed config, logrotate stanza, tmpfiles entry and unit are
# rewritten for any other value (see SUBST).
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
LOGDIR ?= /var/log/fanotifyd
RUNDIR ?= /run/fanotifyd
DESTDIR ?=

CC ?= cc
OPTFLAGS ?= -O2 -g
WARNFLAGS = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
BASEFLAGS = -std=gnu11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -pthread -fstack-protector-strong
CFLAGS ?=
override CFLAGS := $(BASEFLAGS) $(WARNFLAGS) $(OPTFLAGS) $(CFLAGS)
LDFLAGS ?=
LDLIBS = -pthread
DAEMON_LIBS = -lseccomp
# jansson: the --subscribe --format text client (src/subscribe.c) parses JSON; yajl and
# zlib: --replay (src/replay.c) parses recorded streams, gzipped or not.
CLIENT_LIBS = -ljansson -lyajl -lz

BUILD ?= build
BIN ?= fanotifyd
SRCS = $(wildcard src/*.c)
OBJS = $(patsubst src/%.c,$(BUILD)/%.o,$(SRCS))
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILD)/%,$(UNIT_SRCS))

.PHONY: all test integration check sanitize fuzz fuzz-build fuzz-regress install uninstall clean \
	demo deps layering bench completion

# The bash completion is made from the binary's --help (scripts/gen-completion.sh), so the
# options and event names are listed once, in src/config.c.
COMPLETION = $(BUILD)/fanotifyd.bash-completion

all: $(BIN) $(COMPLETION)

completion: $(COMPLETION)

$(COMPLETION): $(BIN) scripts/gen-completion.sh | $(BUILD)
	scripts/gen-completion.sh $(BIN) >$@.tmp
	mv $@.tmp $@

# Everything but main.c, for the daemon and for the unit tests of the middle.
LIB = $(BUILD)/libfanotifyd.a
LIB_OBJS = $(filter-out $(BUILD)/main.o,$(OBJS))

$(BIN): $(BUILD)/main.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(BUILD)/main.o $(LIB) $(LDLIBS) $(DAEMON_LIBS) $(CLIENT_LIBS)

$(LIB): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD):
	mkdir -p $(BUILD)

# Each unit test links the library (everything but main.c): the modules it tests are the
# real ones, and no stub stands in for another (the log has a sink for tests to read).
$(BUILD)/test_%: tests/unit/test_%.c $(LIB) $(wildcard src/*.h) | $(BUILD)
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(LIB) $(LDLIBS) $(DAEMON_LIBS) $(TEST_LIBS) -lcmocka

# test_pipeline steps the wall clock the pipeline sees (not the machine's).
$(BUILD)/test_pipeline: TEST_LIBS = -Wl,--wrap=clock_gettime

# The client's tests link what the client links.
$(BUILD)/test_subscribe: TEST_LIBS = $(CLIENT_LIBS)
$(BUILD)/test_replay: TEST_LIBS = $(CLIENT_LIBS)

test: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

integration: $(BIN)
	@FANOTIFYD=$(abspath $(BIN)) tests/integration/run.sh

check: deps
	$(MAKE) layering
	$(MAKE) test
	$(MAKE) fuzz-regress
	$(MAKE) integration

# ASan + UBSan build in its own directory, then every test against it.
sanitize:
	$(MAKE) BUILD=build/san BIN=build/san/fanotifyd \
		OPTFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" build/san/fanotifyd
	$(MAKE) BUILD=build/san \
		OPTFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test
	FANOTIFYD=$(abspath build/san/fanotifyd) ASAN_OPTIONS=detect_leaks=1 tests/integration/run.sh

# libFuzzer targets (clang), one per pure module: tests/fuzz/fuzz_X.c + src/X.c, built in
# their own directory. fuzz-regress replays the committed seeds and crash inputs; fuzz does
# that, then fuzzes each target FUZZ_SECONDS on a scratch copy of its corpus.
FUZZ_CC ?= clang
FUZZ_BUILD = build/fuzz
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARNFLAGS) -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS = decode record config
FUZZ_BINS = $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_TARGETS))

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c src/%.c $(wildcard src/*.h)
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Isrc -o $@ $< src/$*.c

fuzz-build: $(FUZZ_BINS)

fuzz-regress: fuzz-build
	@tests/fuzz/run.sh regress $(FUZZ_BUILD) $(FUZZ_TARGETS)

fuzz: deps
	$(MAKE) fuzz-build
	@tests/fuzz/run.sh regress $(FUZZ_BUILD) $(FUZZ_TARGETS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh fuzz $(FUZZ_BUILD) $(FUZZ_TARGETS)

# The packaging files name the default paths; installed elsewhere, they are rewritten.
SUBST = sed -e 's|/usr/sbin/fanotifyd|$(SBINDIR)/fanotifyd|g' \
	-e 's|/etc/fanotifyd/|$(SYSCONFDIR)/fanotifyd/|g' \
	-e 's|/var/log/fanotifyd|$(LOGDIR)|g' -e 's|/run/fanotifyd|$(RUNDIR)|g'
CONF = $(DESTDIR)$(SYSCONFDIR)/fanotifyd/fanotifyd.conf

# The config is installed only where there is none: an edited config survives a reinstall
# (the new default is then left as fanotifyd.conf.default beside it). uninstall removes
# the config only while it is the unedited default, and the log and run directories (made
# by install and tmpfiles.d) only if empty.
install: $(BIN) $(COMPLETION)
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/fanotifyd
	install -D -m 0644 man/fanotifyd.8 $(DESTDIR)$(MANDIR)/man8/fanotifyd.8
	install -D -m 0644 man/fanotifyd.conf.5 $(DESTDIR)$(MANDIR)/man5/fanotifyd.conf.5
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(SYSCONFDIR)/fanotifyd \
		$(DESTDIR)$(BASHCOMPDIR)
	install -d -m 0750 $(DESTDIR)$(LOGDIR)
	$(SUBST) packaging/fanotifyd.service >$(DESTDIR)$(UNITDIR)/fanotifyd.service
	$(SUBST) packaging/fanotifyd.tmpfiles >$(DESTDIR)$(TMPFILESDIR)/fanotifyd.conf
	$(SUBST) packaging/fanotifyd.logrotate >$(DESTDIR)$(SYSCONFDIR)/logrotate.d/fanotifyd
	chmod 0644 $(DESTDIR)$(UNITDIR)/fanotifyd.service $(DESTDIR)$(TMPFILESDIR)/fanotifyd.conf \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/fanotifyd
	install -m 0644 $(COMPLETION) $(DESTDIR)$(BASHCOMPDIR)/fanotifyd
	$(SUBST) packaging/fanotifyd.conf >$(CONF).default
	chmod 0644 $(CONF).default
	@if [ -e $(CONF) ]; then \
		if cmp -s $(CONF) $(CONF).default; then rm -f $(CONF).default; \
		else echo "install: kept $(CONF) (edited); the new default is $(CONF).default"; fi; \
	else mv $(CONF).default $(CONF); fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/fanotifyd $(DESTDIR)$(MANDIR)/man8/fanotifyd.8 \
		$(DESTDIR)$(MANDIR)/man5/fanotifyd.conf.5 $(DESTDIR)$(UNITDIR)/fanotifyd.service \
		$(DESTDIR)$(TMPFILESDIR)/fanotifyd.conf $(DESTDIR)$(SYSCONFDIR)/logrotate.d/fanotifyd \
		$(DESTDIR)$(BASHCOMPDIR)/fanotifyd $(CONF).default
	@$(SUBST) packaging/fanotifyd.conf | { \
		if [ ! -e $(CONF) ]; then :; \
		elif cmp -s - $(CONF); then rm -f $(CONF); \
		else echo "uninstall: kept $(CONF) (edited)"; fi; }
	@rmdir $(DESTDIR)$(SYSCONFDIR)/fanotifyd $(DESTDIR)$(LOGDIR) $(DESTDIR)$(RUNDIR) 2>/dev/null || true

# Installs the build and test dependencies that are missing (Debian/Ubuntu, as root).
deps:
	@scripts/deps.sh

demo: deps
	$(MAKE) all
	mkdir -p /tmp/fanotifyd-demo
	touch /tmp/fanotifyd-demo/canary
	@echo "fanotifyd: watching /tmp/fanotifyd-demo; try 'echo hi > /tmp/fanotifyd-demo/file' in another shell; Ctrl-C stops"
	./$(BIN) --foreground --watch /tmp/fanotifyd-demo --canary '/tmp/fanotifyd-demo/canary*' --output -

# Benchmarks (root): make bench [PEERS=1] [BENCH_ARGS=--quick]; results in bench/RESULTS.md
bench: deps
	$(MAKE) all
	FANOTIFYD=$(abspath $(BIN)) bench/run.sh $(BENCH_ARGS)

# Include rules from STYLE.md: pure modules include only event.h, compat.h, config.h and
# their own header.
# The include graph against STYLE.md's layers (scripts/layering.py names them).
layering:
	@scripts/layering.py src

clean:
	rm -rf build $(BIN)
