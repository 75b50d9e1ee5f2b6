# ublk-user: see README.md.  Plain make, no autotools.
#   make                 build into build/
#   make install         PREFIX=/usr/local DESTDIR= [SETCAP=1]
#   make deps            install build and test dependencies (Debian 12)
#   make check           unit tests + tests on a real kernel in a VM, on
#                        Linux 7.x and 6.12 (CHECK_KERNELS)
#   make check-unit      unit tests only (no kernel, no network)
#   make check-uapi      src/uapi against the test kernel's ublk_cmd.h
#   make check-vm        kernel tests only (QEMU TCG), on one kernel series:
#                        UBLK_USER_VM_KERNEL=7 (default), 6.18 or 6.12
#   make check-matrix    kernel tests on 7.x, 6.18 and 6.12, one after the
#                        other, checked against README's Tested kernels
#   make check-asan      unit tests built with AddressSanitizer + UBSan
#   make fuzz            fuzz the parsers of untrusted input (clang
#                        libFuzzer), FUZZ_SECONDS=20 each, as in make check
#   make demo            a rootless user's disk, end to end, in the VM
#   make bench           ublk-user vs null_blk and the kernel's kublk, in one
#                        VM (tests/bench/README.md; not part of check)
#   make check-kpatch    build contrib/kernel's fixed ublk_drv for the test
#                        kernel, run KPATCH_TESTS with it (not part of check)

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/ublk-user
MANDIR     ?= $(PREFIX)/share/man
UDEVRULESDIR ?= /usr/lib/udev/rules.d
# systemd's units (ublk-user@.service for users, ublk-user-system@.service)
SYSTEMDUNITDIR ?= /usr/lib/systemd/system
SYSTEMDUSERUNITDIR ?= /usr/lib/systemd/user
HOOKSDIR   ?= /usr/share/containers/oci/hooks.d
SYSCONFDIR ?= /etc
DOCDIR     ?= $(PREFIX)/share/doc/ublk-user
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# Who may open /dev/ublk-control (see ublk-user-udev(8)): the members of
# UBLK_GROUP (mode 0660), or everybody with UBLK_CONTROL_MODE=0666.
UBLK_GROUP ?= ublk
UBLK_CONTROL_MODE ?= 0660

BUILD      ?= build
CC         ?= cc
# pkg-config is asked when a recipe runs, not when make reads this file:
# `make deps check` installs the -dev packages first, in the same run.
pkgs_cflags = $(shell pkg-config --cflags $(1))
pkgs_libs   = $(shell pkg-config --libs $(1))

CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CPPFLAGS   += -std=c11 -D_GNU_SOURCE -DUBLK_USER_VERSION='"$(VERSION)"' \
	      -DUBLK_USER_SYSCONFDIR='"$(SYSCONFDIR)"' \
	      -DUBLK_USER_UDEVRULESDIR='"$(UDEVRULESDIR)"' \
	      -DUBLK_USER_SYSTEMDUNITDIR='"$(SYSTEMDUNITDIR)"' \
	      -DUBLK_USER_SYSTEMDUSERUNITDIR='"$(SYSTEMDUSERUNITDIR)"' \
	      -Isrc -MMD -MP
# Headers of every library any layer uses (they only add -I paths).
PKG_CFLAGS  = $(call pkgs_cflags,liburing libcap-ng libseccomp uuid json-c \
		blkid)

# One archive per layer (HACKING.md says what may call what).  A program
# names the layers it uses, highest first, and the libraries they need.
LAYERS     := base kernel policy host nbd server containers disks
$(foreach l,$(LAYERS),$(eval $(l)_SRCS := $(wildcard src/$(l)/*.c)))
server_SRCS += $(wildcard src/server/targets/*.c)
layer_lib   = $(BUILD)/lib$(1).a

CLI_SRCS   := $(wildcard src/cli/*.c)
UDEV_SRCS  := $(wildcard src/udev/*.c)
HOOK_SRCS  := $(wildcard src/oci/*.c)
UNIT_SRCS  := $(filter-out tests/unit/tap.c tests/unit/uapi_%.c, \
		$(wildcard tests/unit/*.c))

# What each program links, and the pkg-config names those layers need.
CLI_LAYERS  := disks containers server nbd policy host kernel base
# blkid: add --partition (never in the udev helper).  No libsystemd:
# src/base/svcnotify.h says why.
CLI_PKGS    := liburing libcap-ng libseccomp uuid json-c blkid
UDEV_LAYERS := policy host kernel base
UDEV_PKGS   := liburing
HOOK_LAYERS := containers host kernel base
HOOK_PKGS   := libcap-ng json-c uuid
ALL_LAYERS  := disks containers server nbd policy host kernel base
ALL_LIBS    = $(call pkgs_libs,$(CLI_PKGS)) -lpthread
layer_libs  = $(foreach l,$(1),$(call layer_lib,$(l)))

# The client library for zero copy, installed with its header and .pc
SHMEM_LIB  := $(BUILD)/libublk-user-shmem.a
BINS       := $(BUILD)/ublk-user $(BUILD)/ublk-user-udev $(SHMEM_LIB) \
	      $(BUILD)/ublk-user-oci-hook \
	      $(BUILD)/examples/shmem-client \
	      $(BUILD)/ublk-user.bash-completion
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR     ?= $(PREFIX)/lib
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%.t)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

.PHONY: all install stage deps check check-unit check-uapi check-vm check-asan \
	check-kernels check-matrix \
	demo clean format check-format fuzz check-fuzz

all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(foreach l,$(LAYERS),$(eval $(call layer_lib,$(l)): $(call obj,$($(l)_SRCS))))
$(BUILD)/lib%.a:
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/ublk-user: $(call obj,$(CLI_SRCS)) $(call layer_libs,$(CLI_LAYERS))
	$(CC) $(CFLAGS) $(LDFLAGS) -Wl,--as-needed -o $@ $^ \
		$(call pkgs_libs,$(CLI_PKGS)) -lpthread

# bash completion, with the administrator's disk folder filled in
$(BUILD)/ublk-user.bash-completion: completion/ublk-user.bash.in
	@mkdir -p $(dir $@)
	sed -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< >$@

$(SHMEM_LIB): $(call obj,src/client/ublk-user-shmem.c)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/examples/shmem-client: examples/shmem-client.c $(SHMEM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc/client $(CFLAGS) $(WARN) -o $@ $< $(SHMEM_LIB)

# The root helper: policy, kernel queries, node hand-over; no server code
# (tests/unit/linked-libs.sh.t checks what it links).
$(BUILD)/ublk-user-udev: $(call obj,$(UDEV_SRCS)) \
		$(call layer_libs,$(UDEV_LAYERS))
	$(CC) $(CFLAGS) $(LDFLAGS) -Wl,--as-needed -o $@ $^ \
		$(call pkgs_libs,$(UDEV_PKGS))

$(BUILD)/ublk-user-oci-hook: $(call obj,$(HOOK_SRCS)) \
		$(call layer_libs,$(HOOK_LAYERS))
	$(CC) $(CFLAGS) $(LDFLAGS) -Wl,--as-needed -o $@ $^ \
		$(call pkgs_libs,$(HOOK_PKGS))

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSCONFDIR)/ublk-user/policy.d \
		$(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BUILD)/ublk-user $(DESTDIR)$(BINDIR)/ublk-user
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 $(BUILD)/ublk-user.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/ublk-user
	# Opt-in: CAP_IPC_LOCK as a file capability (ublk-user(1), SECURITY.md)
	if [ "$(SETCAP)" = 1 ]; then \
		setcap cap_ipc_lock+ep $(DESTDIR)$(BINDIR)/ublk-user; fi
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0644 src/client/ublk-user-shmem.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(SHMEM_LIB) $(DESTDIR)$(LIBDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' src/client/ublk-user-shmem.pc.in \
		> $(DESTDIR)$(LIBDIR)/pkgconfig/ublk-user-shmem.pc
	install -m 0755 $(BUILD)/examples/shmem-client \
		$(DESTDIR)$(LIBEXECDIR)/shmem-client
	install -m 0755 $(BUILD)/ublk-user-udev \
		$(DESTDIR)$(LIBEXECDIR)/ublk-user-udev
	# The OCI hook and its hooks.d files (podman reads HOOKSDIR)
	install -m 0755 $(BUILD)/ublk-user-oci-hook \
		$(DESTDIR)$(LIBEXECDIR)/ublk-user-oci-hook
	install -d $(DESTDIR)$(HOOKSDIR)
	for f in examples/hooks.d/*.json; do \
		sed -e 's|/usr/libexec/ublk-user|$(LIBEXECDIR)|g' \
			-e 's|/usr/bin/ublk-user|$(BINDIR)/ublk-user|g' $$f \
			> $(DESTDIR)$(HOOKSDIR)/$${f##*/} && \
		chmod 0644 $(DESTDIR)$(HOOKSDIR)/$${f##*/} || exit 1; done
	# The rule names the helper where this install puts it, and gives
	# /dev/ublk-control to UBLK_GROUP with UBLK_CONTROL_MODE.
	sed -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
		-e 's|@UBLK_GROUP@|$(UBLK_GROUP)|g' \
		-e 's|@UBLK_CONTROL_MODE@|$(UBLK_CONTROL_MODE)|g' \
		policy/70-ublk-user.rules.in \
		> $(DESTDIR)$(UDEVRULESDIR)/70-ublk-user.rules
	chmod 0644 $(DESTDIR)$(UDEVRULESDIR)/70-ublk-user.rules
	# Before 60-persistent-storage: no probing of disks users serve.
	sed -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
		policy/10-ublk-user-disks.rules.in \
		> $(DESTDIR)$(UDEVRULESDIR)/10-ublk-user-disks.rules
	chmod 0644 $(DESTDIR)$(UDEVRULESDIR)/10-ublk-user-disks.rules
	# systemd's units for disk files (ublk-user.disk(5)); the folder of
	# the administrator's disk files
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSTEMDUSERUNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/ublk-user/disks
	for u in ublk-user@.service:$(SYSTEMDUSERUNITDIR) \
		ublk-user-system@.service:$(SYSTEMDUNITDIR); do \
		sed -e 's|@BINDIR@|$(BINDIR)|g' \
			-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			policy/systemd/$${u%%:*}.in \
			> $(DESTDIR)$${u#*:}/$${u%%:*} && \
		chmod 0644 $(DESTDIR)$${u#*:}/$${u%%:*} || exit 1; done
	# The policy: the default, unless the administrator has one already.
	chmod 0755 $(DESTDIR)$(SYSCONFDIR)/ublk-user \
		$(DESTDIR)$(SYSCONFDIR)/ublk-user/policy.d \
		$(DESTDIR)$(SYSCONFDIR)/ublk-user/disks
	[ -e $(DESTDIR)$(SYSCONFDIR)/ublk-user/policy.conf ] || \
		install -m 0644 policy/policy.conf \
			$(DESTDIR)$(SYSCONFDIR)/ublk-user/policy.conf
	install -m 0644 policy/examples/*.conf $(DESTDIR)$(DOCDIR)/examples/
	for m in man/*.1; do [ -e "$$m" ] && \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man1/; done; true
	for m in man/*.5; do [ -e "$$m" ] && \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true
	for m in man/*.8; do [ -e "$$m" ] && \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done; true

# The tree the VM tests install into the guest.
stage:
	rm -rf $(BUILD)/stage
	$(MAKE) install DESTDIR=$(CURDIR)/$(BUILD)/stage PREFIX=/usr

deps:
	tests/deps.sh

# Test-only programs, used by the kernel tests in the VM.
#  ublk-raw: raw control commands;
#  ublk-user-testhooks: ublk-user with the "fault" target (tests/targets/
#    fault.c) compiled in, to show confinement holding;
#  ublk-user-nosandbox: ublk-user without seccomp and ring restrictions,
#    only to measure what they cost;
#  ring-pin: takes a server's rings and tries to pin 1 GiB on each;
#  nbd-evil: an NBD server, honest or hostile on demand; nbd-probe: the
#    NBD client layer over plain sockets (the unit tests use them too);
#  ctl-pause: a client of a server's control socket that misbehaves;
#  jget: jq -r for simple paths, at a fraction of jq's start-up cost.
#  ublk-floor: a ublk server that does nothing (the bench's floor);
#  seccomp-cost: what the server's filters add to an io_uring_enter.
NBD_TOOLS  := $(BUILD)/tests/nbd-evil $(BUILD)/tests/nbd-probe
TEST_TOOLS := $(BUILD)/tests/ublk-raw $(BUILD)/tests/ublk-user-testhooks \
	      $(BUILD)/tests/ublk-user-nosandbox $(BUILD)/tests/fakenode \
	      $(BUILD)/tests/shmem-peer $(BUILD)/tests/ring-pin $(NBD_TOOLS) \
	      $(BUILD)/tests/ctl-pause $(BUILD)/tests/jget $(BUILD)/tests/ublk-floor \
	      $(BUILD)/tests/seccomp-cost
ALL_SRCS   := $(foreach l,$(LAYERS),$($(l)_SRCS)) $(CLI_SRCS)

$(BUILD)/obj-testhooks/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) -DUBLK_USER_TEST_HOOKS $(CFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/obj-nosandbox/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) -DUBLK_USER_NO_SANDBOX $(CFLAGS) $(WARN) -c -o $@ $<

# A FUSE file system that forges a device node (SECURITY.md).
$(BUILD)/tests/fakenode: tests/tools/fakenode.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(shell pkg-config --cflags fuse3) -o $@ $< \
		$(shell pkg-config --libs fuse3)

$(BUILD)/tests/ublk-user-testhooks: \
		$(patsubst %.c,$(BUILD)/obj-testhooks/%.o,$(ALL_SRCS) \
		tests/targets/fault.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

$(BUILD)/tests/ublk-user-nosandbox: \
		$(patsubst %.c,$(BUILD)/obj-nosandbox/%.o,$(ALL_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

$(BUILD)/tests/%: tests/tools/%.c $(call layer_libs,$(ALL_LAYERS)) \
		$(SHMEM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -o $@ $< \
		$(call layer_libs,$(ALL_LAYERS)) $(SHMEM_LIB) $(ALL_LIBS)

check-vm check-kernels check-matrix demo: $(TEST_TOOLS)

# Everything one kernel test needs: tests/vm/vm-exec tests/kernel/NN-x.t
.PHONY: test-tools
test-tools: all stage $(TEST_TOOLS)

# --- tests -------------------------------------------------------------
# Unit tests: tests/unit/<name>.c -> $(BUILD)/tests/unit/<name>.t, linked
# with the TAP helper (tap.c) and the library; objects go through the
# $(BUILD)/obj rule above, so header changes rebuild them.
UNIT_OBJ   := $(BUILD)/obj/tests/unit
UNIT_TAP   := $(UNIT_OBJ)/tap.o

# Keep the objects: make would delete them as intermediate files.
.SECONDARY: $(patsubst tests/unit/%.c,$(UNIT_OBJ)/%.o,$(UNIT_SRCS))

$(BUILD)/tests/unit/%.t: $(UNIT_OBJ)/%.o $(UNIT_TAP) \
		$(call layer_libs,$(ALL_LAYERS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $(UNIT_LDFLAGS) -o $@ $^ $(ALL_LIBS)

# cli_table.t checks the command table and its parser: it links the
# objects of ublk-user but its main().
CLI_OBJS_BUT_MAIN := $(call obj,$(filter-out src/cli/main.c,$(CLI_SRCS)))
$(BUILD)/tests/unit/cli_table.t: $(UNIT_OBJ)/cli_table.o $(UNIT_TAP) \
		$(CLI_OBJS_BUT_MAIN) $(call layer_libs,$(ALL_LAYERS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $(UNIT_LDFLAGS) -o $@ $^ $(ALL_LIBS)

# ctrl_open.t makes the library's calloc fail on demand.
# (UNIT_LDFLAGS, as check-asan sets LDFLAGS on the command line)
$(BUILD)/tests/unit/ctrl_open.t: UNIT_LDFLAGS := -Wl,--wrap=calloc

# uapi_compare.t: our ABI header against the kernel's linux/ublk_cmd.h.
# The two headers define the same names, so each has a TU of its own
# (uapi_ours.c, uapi_kernel.c) exporting tables built from uapi_names.h.
# The kernel header comes from the VM cache; fetch it when it is missing.
UAPI_CACHE := $(or $(UBLK_USER_VM_CACHE),/var/cache/ublk-user-vm)
UAPI_KINC  := $(UAPI_CACHE)/current/include
UAPI_KHDR  := $(UAPI_KINC)/linux/ublk_cmd.h
UAPI_ARCH   = $(shell $(CC) -print-multiarch 2>/dev/null)
UAPI_BIN   := $(BUILD)/tests/unit/uapi_compare.t

$(UAPI_KHDR):
	UBLK_USER_VM_CACHE='$(UAPI_CACHE)' tests/vm/fetch-kernel --quiet 7 \
		>/dev/null
	@test -r '$@' || { echo "no $@ after tests/vm/fetch-kernel" >&2; \
		exit 1; }

$(UNIT_OBJ)/uapi_kernel.o: tests/unit/uapi_kernel.c $(UAPI_KHDR)
	@mkdir -p $(dir $@)
	$(CC) -I'$(UAPI_KINC)' $(if $(UAPI_ARCH),-I'$(UAPI_KINC)/$(UAPI_ARCH)') \
		$(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(UNIT_OBJ)/uapi_compare.o: tests/unit/uapi_compare.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DUAPI_OURS_HEADER='"$(CURDIR)/src/uapi/ublk_abi.h"' \
		-DUAPI_KERNEL_HEADER='"$(UAPI_KHDR)"' $(CFLAGS) $(WARN) \
		-c -o $@ $<

$(UAPI_BIN): $(UNIT_OBJ)/uapi_compare.o $(UNIT_OBJ)/uapi_ours.o \
		$(UNIT_OBJ)/uapi_kernel.o $(UNIT_TAP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

# The host checks two at a time (most of them use one core), with the
# kernel tests' tools (built there rather than one by one before the
# first guest boots), then the kernel tests, which keep both cores busy
# themselves.
check:
	$(MAKE) -j2 --output-sync=target check-format check-unit check-uapi \
		check-asan check-fuzz $(TEST_TOOLS)
	$(MAKE) check-kernels

# One prove run, so that one failing test does not hide the others; the
# shell tests are executables too (#!/bin/bash).
UNIT_SH    := $(wildcard tests/unit/*.sh.t) tests/lib/selftest.t

check-unit: all $(UNIT_BINS) $(NBD_TOOLS) $(BUILD)/tests/jget
	UBLK_USER_BIN=$(BUILD)/ublk-user BUILD=$(BUILD) \
		UBLK_USER_UDEV_BIN=$(BUILD)/ublk-user-udev \
		prove --exec '' $(UNIT_BINS) $(UNIT_SH)

# Our ABI header against the test kernel's: fetches that kernel's headers
# (the network), so it is not part of check-unit.
check-uapi: $(UAPI_BIN)
	prove --exec '' $(UAPI_BIN)

check-vm: all
	$(MAKE) stage
	tests/vm/fetch-kernel $(UBLK_USER_VM_KERNEL)
	prove -j2 --exec tests/vm/vm-exec tests/kernel/*.t

# The kernel series make check boots (both must pass), and the matrix.
# tests/vm/matrix runs the suite on each in turn and checks README's rows.
CHECK_KERNELS  ?= 7 6.12
MATRIX_KERNELS ?= 7 6.18 6.12

check-kernels: all
	$(MAKE) stage
	tests/vm/matrix $(CHECK_KERNELS)

check-matrix: all
	$(MAKE) stage
	tests/vm/matrix $(MATRIX_KERNELS)

# Unit tests under AddressSanitizer and UBSan, in a build of their own.
check-asan:
	$(MAKE) BUILD=build-asan CC=gcc \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" check-unit

# Parsers of untrusted input under libFuzzer (clang), with ASan and UBSan:
# tests/fuzz/NAME_fuzz.c for each NAME in FUZZ_TARGETS, linked with
# FUZZ_NAME_SRCS and the libraries FUZZ_NAME_PKGS, fed the words of
# tests/fuzz/NAME.dict.  Seed corpora are kept in tests/fuzz/corpus/NAME;
# what the fuzzer finds goes to $(FUZZ_DIR)/corpus/NAME.  make fuzz (and
# make check) runs each target for FUZZ_SECONDS (20): make fuzz one after
# the other, make check-fuzz two at a time.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_TARGETS := policy records diskfile nbd
#  policy: a policy file, as the root udev helper reads it
FUZZ_policy_SRCS  := src/policy/policy.c src/base/size.c src/base/err.c \
		src/base/ini.c
FUZZ_policy_PKGS  :=
FUZZ_policy_LEN   := 4096
#  records: container records, CDI specs, the OCI config and state, what
#  `ublk-user add` prints, device records (root reads them all somewhere)
FUZZ_records_SRCS := src/base/json.c src/base/err.c src/base/size.c \
		src/base/privdir.c \
		src/base/dirids.c src/host/state.c src/host/idmap.c \
		src/containers/ctrrec.c src/containers/cdi.c \
		src/containers/ocicfg.c src/containers/annot.c
FUZZ_records_PKGS := json-c uuid
FUZZ_records_LEN  := 8192
#  diskfile: a disk file, a user's own or an administrator's (root reads)
FUZZ_diskfile_SRCS := src/disks/diskfile.c src/base/ini.c src/base/size.c \
		src/base/err.c
FUZZ_diskfile_PKGS :=
FUZZ_diskfile_LEN  := 4096
#  nbd: what an NBD server sends (the handshake, replies), NBD URIs
FUZZ_nbd_SRCS     := src/nbd/uri.c src/nbd/handshake.c src/nbd/xmit.c \
		src/base/size.c src/base/err.c
FUZZ_nbd_PKGS     :=
FUZZ_nbd_LEN      := 16384
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%_fuzz)

define fuzz_target
$(FUZZ_DIR)/$(1)_fuzz: tests/fuzz/$(1)_fuzz.c $(FUZZ_$(1)_SRCS) \
		$(wildcard src/*/*.h)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -Isrc -g -O1 \
		$(if $(FUZZ_$(1)_PKGS),$$(call pkgs_cflags,$(FUZZ_$(1)_PKGS))) \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $$(WARN) -o $$@ \
		tests/fuzz/$(1)_fuzz.c $(FUZZ_$(1)_SRCS) \
		$(if $(FUZZ_$(1)_PKGS),$$(call pkgs_libs,$(FUZZ_$(1)_PKGS)))

.PHONY: fuzz-$(1)
fuzz-$(1): $(FUZZ_DIR)/$(1)_fuzz
	@mkdir -p $(FUZZ_DIR)/corpus/$(1)
	$(FUZZ_DIR)/$(1)_fuzz -max_total_time=$$(FUZZ_SECONDS) \
		-max_len=$(FUZZ_$(1)_LEN) -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -dict=tests/fuzz/$(1).dict \
		$(FUZZ_DIR)/corpus/$(1) tests/fuzz/corpus/$(1)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target,$(t))))

# One target after the other, also under make -j
fuzz: $(FUZZ_BINS)
	for t in $(FUZZ_TARGETS); do \
		$(MAKE) fuzz-$$t FUZZ_SECONDS=$(FUZZ_SECONDS) || exit 1; done

# make check: two targets at a time (each fuzzer is one process), each
# one's output in one piece
check-fuzz: $(FUZZ_BINS)
	$(MAKE) $(if $(findstring jobserver,$(MAKEFLAGS)),,-j2) \
		--output-sync=target FUZZ_SECONDS=$(FUZZ_SECONDS) \
		$(FUZZ_TARGETS:%=fuzz-%)

demo: all
	$(MAKE) stage
	tests/vm/fetch-kernel
	tests/vm/vm-exec examples/demo.sh

# fio against null_blk, ublk-user and the kernel's kublk in one guest
# (~40 min; BENCH_QUICK=1 for a smoke run). tests/bench/run stages its own
# install, fetches the kernel and builds kublk in the VM cache.
.PHONY: bench
bench:
	tests/bench/run

# The ublk_drv fix in contrib/kernel: build it for the test kernel (in the
# VM cache: ~9 minutes the first time, for a trixie build root and the
# kernel's source; ~40 s when the patch changed; nothing when built), then
# run the tests that tell it from Debian's with it loaded. Not in check for
# that first build; KPATCH_TESTS='tests/kernel/*.t' runs the whole suite.
KPATCH_TESTS ?= tests/kernel/60-confinement.t tests/kernel/73-doctor.t
.PHONY: check-kpatch
check-kpatch: all $(TEST_TOOLS)
	$(MAKE) stage
	tests/vm/fetch-kernel
	ko=$$(contrib/kernel/build-ublk-ko --quiet) && \
		UBLK_USER_VM_UBLK_KO=$$ko prove -j2 --exec tests/vm/vm-exec \
		$(KPATCH_TESTS)

# The tree is kept in .clang-format's style and shellcheck-clean;
# make check fails otherwise (make format rewrites the C files).
FORMAT_SRCS = $(shell git ls-files '*.c' '*.h')
SHELL_SRCS  = $(shell for f in $$(git ls-files); do \
		head -c 64 "$$f" | head -1 | grep -qE '^\#!.*[/ ](ba)?sh( |$$)' && \
		echo "$$f"; done; git ls-files 'tests/lib/*.sh')
# (no #! line: bash sources it; shellcheck -s bash)
COMPLETION_SRC := completion/ublk-user.bash.in

format:
	clang-format -i $(FORMAT_SRCS)

check-format:
	clang-format --dry-run --Werror $(FORMAT_SRCS)
	shellcheck -x -S warning $(SHELL_SRCS)
	shellcheck -S warning -s bash $(COMPLETION_SRC)

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -type f -name '*.d' 2>/dev/null)
