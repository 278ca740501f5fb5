# pipemail — one plain Makefile. Every cmd/NAME/ folder becomes bin/NAME;
# every lib/*.c goes into one static library; tests/unit/NAME.c becomes a
# TAP executable. Override CC CFLAGS LDFLAGS PREFIX DESTDIR as usual.

CC      = gcc
CFLAGS  = -O2 -g
WARN    = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wstrict-prototypes \
          -Wmissing-prototypes -Wshadow -Werror
CPPFLAGS = -Ilib $(shell pkg-config --cflags libtls 2>/dev/null)
LDFLAGS =
LDLIBS  = -Wl,--as-needed $(shell pkg-config --libs libtls 2>/dev/null || echo -ltls) \
          -lcdb -lcrypt -lresolv -lidn2 -lz -lm
PREFIX  = /usr/local
DESTDIR =
BIN     = bin
OBJ     = obj
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

ALLCFLAGS = $(WARN) $(CFLAGS) $(EXTRA_CFLAGS)

# The built-in control and queue directories. PIPEMAIL_CONF and
# PIPEMAIL_QUEUE override them, except in a set-id program (queue-add
# installed setgid): there only these count.
CONFDIR  = /etc/pipemail
QUEUEDIR = /var/spool/pipemail

# Commands started once per message or per connection are linked as
# static PIEs (ASLR kept): on this kind of machine the dynamic loader costs
# about a quarter of such a process's CPU. They make no NSS lookups, so a
# static glibc is safe for them (spamcheck's iconv loads glibc's own charset
# modules: rebuild after a glibc upgrade). LINK=dynamic links everything
# dynamically; the sanitizer build always does.
STATIC_CMDS = queue-add smtp-recv pop-serve spamcheck
LINK    = static

CMDS     := $(notdir $(patsubst %/,%,$(wildcard cmd/*/)))
LIBSRC   := $(wildcard lib/*.c)
LIBOBJ   := $(LIBSRC:%.c=$(OBJ)/%.o)
LIBA     := $(OBJ)/libpipemail.a
UNITSRC  := $(wildcard tests/unit/*.c)
UNITS    := $(UNITSRC:tests/unit/%.c=$(OBJ)/unit/%.t)
FUZZSRC  := $(wildcard tests/fuzz/*.c)
PROGS    := $(CMDS:%=$(BIN)/%)
MAN      := $(wildcard man/*.[1-8])

.PHONY: FORCE all units test test-plain test-asan run install uninstall clean bench fuzz lint deps deps-run
.SECONDARY:

all: $(PROGS)

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(DIRFLAGS) $(ALLCFLAGS) -MMD -MP -c -o $@ $<

# lib/conf.c and lib/queue.c are rebuilt when CONFDIR or QUEUEDIR change.
# (their own variable: a CPPFLAGS given on the command line must not drop them)
$(OBJ)/lib/conf.o $(OBJ)/lib/queue.o: DIRFLAGS = -DPIPEMAIL_CONFDIR='"$(CONFDIR)"' \
  -DPIPEMAIL_QUEUEDIR='"$(QUEUEDIR)"'
$(OBJ)/lib/conf.o $(OBJ)/lib/queue.o: $(OBJ)/dirs.stamp
$(OBJ)/dirs.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(CONFDIR) $(QUEUEDIR)' | cmp -s - $@ || echo '$(CONFDIR) $(QUEUEDIR)' > $@
FORCE:

$(LIBA): $(LIBOBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

# A command is every .c in its folder over the library.
.SECONDEXPANSION:
$(BIN)/%: $$(addprefix $(OBJ)/,$$(addsuffix .o,$$(basename $$(wildcard cmd/$$*/*.c)))) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(LDFLAGS) $(if $(and $(filter static,$(LINK)),$(filter $*,$(STATIC_CMDS))),-static-pie) \
	  -o $@ $(filter %.o,$^) $(LIBA) $(LDLIBS)

$(OBJ)/unit/%.t: $(OBJ)/tests/unit/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

units: $(UNITS)

deps:
	@scripts/deps

# The test suite runs twice: the plain build, then the same tests over a
# build with AddressSanitizer and UndefinedBehaviorSanitizer. scripts/reach
# runs them where nobody can reach the tree (as root from a clone in /root).
test: deps
	@scripts/reach $(MAKE) --no-print-directory test-plain
	@scripts/reach $(MAKE) --no-print-directory test-asan

test-plain: all units
	PIPEMAIL_BIN=$(CURDIR)/$(BIN) PIPEMAIL_UNIT=$(CURDIR)/$(OBJ)/unit \
	  prove --exec '' --timer $(UNITS) $(sort $(wildcard tests/*.t))

test-asan:
	@$(MAKE) --no-print-directory CC=clang BIN=asan/bin OBJ=asan/obj LINK=dynamic \
	  EXTRA_CFLAGS='$(SANFLAGS)' LDFLAGS='$(SANFLAGS)' all units
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	PIPEMAIL_SANITIZED=1 PIPEMAIL_BIN=$(CURDIR)/asan/bin PIPEMAIL_UNIT=$(CURDIR)/asan/obj/unit \
	  prove --exec '' --timer $(patsubst $(OBJ)/%,asan/obj/%,$(UNITS)) $(sort $(wildcard tests/*.t))

# libFuzzer targets, one per parser: make fuzz FUZZTIME=60
FUZZTIME = 30
fuzz:
	@mkdir -p fuzz/bin
	@for f in $(FUZZSRC); do n=$$(basename $$f .c); \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) -D_GNU_SOURCE -Ilib \
	    -o fuzz/bin/$$n $$f $(LIBSRC) $(LDLIBS) || exit 1; \
	  mkdir -p fuzz/corpus/$$n; \
	  fuzz/bin/$$n -max_total_time=$(FUZZTIME) fuzz/corpus/$$n || exit 1; done

lint:
	mandoc -Tlint -W warning $(MAN)

run: deps-run all
	@scripts/run

deps-run:
	@scripts/deps --run

bench: deps all
	@scripts/bench

# QUEUEGROUP=pipemail installs queue-add setgid to the queue's group, so
# that local users' sendmail can queue (INSTALL, section 2); a plain
# reinstall would otherwise silently undo that.
QUEUEGROUP =
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	for m in $(MAN); do s=$${m##*.}; \
	  install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	if [ -n "$(QUEUEGROUP)" ]; then chgrp $(QUEUEGROUP) $(DESTDIR)$(PREFIX)/bin/queue-add && \
	  chmod 2755 $(DESTDIR)$(PREFIX)/bin/queue-add; fi
	@echo 'pipemail: installed with control dir $(CONFDIR), queue $(QUEUEDIR) built in;' \
	  '$(if $(QUEUEGROUP),queue-add setgid $(QUEUEGROUP),queue-add not set-id (QUEUEGROUP= unset))'

uninstall:
	for p in $(CMDS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$p; done
	for m in $(MAN); do s=$${m##*.}; rm -f $(DESTDIR)$(PREFIX)/share/man/man$$s/$$(basename $$m); done

clean:
	rm -rf $(BIN) $(OBJ) asan fuzz/bin

-include $(shell find $(OBJ) asan/obj -name '*.d' 2>/dev/null)
