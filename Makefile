# Tern: the three entry points are
#   make run     the conformance suite (scenarios/) against the Tern stack: out/report.md, out/junit.xml, pcaps
#   make test    everything CI runs: C tests, the same under ASan+UBSan, pytest, a short fuzz run
#   make bench   the benchmarks, as "BENCH <name> <value> <unit>" lines
# Each one first installs what is missing (as root on Debian: apt-get; then a
# .venv with the pyharness package and its test extras).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
BUILD := build
GEN := -G Ninja
DEMO_OUT ?= out/demo
RUN_OUT ?= out
SEED ?= 1

# What the CFFI extension is built from: a change here rebuilds it (incrementally).
PYEXT_INPUTS := CMakeLists.txt pyproject.toml $(wildcard pyharness/CMakeLists.txt pyharness/_ffi_build.py pyharness/_cdef.h) \
	$(shell find sim stack examples/netshell -name '*.c' -o -name '*.h' -o -name CMakeLists.txt 2>/dev/null)

.PHONY: help run demo test bench docs fuzz format format-check deps venv pyext c-test asan-test py-test classic-scenarios fuzz-test clean

help:
	@echo "make run     run the conformance suite; report in $(RUN_OUT)/report.md, $(RUN_OUT)/junit.xml, pcaps in $(RUN_OUT)/artifacts/"
	@echo "make demo    run the demonstration scenario (pcaps in $(DEMO_OUT)/)"
	@echo "make demo-virtio  a Linux guest in QEMU pings Tern's ping responder through vhost-user (docs/virtio.md)"
	@echo "make test    C tests, ASan+UBSan C tests and parser scenarios, pytest, short fuzz run (what CI runs)"
	@echo "make run-smoltcp  the suite against smoltcp 0.12 (cargo fetches it); compared with docs/smoltcp-differences.md"
	@echo "make run-lwip     the suite against lwIP 2.1 (apt-get source fetches it); compared with docs/lwip-differences.md"
	@echo "make bench   benchmarks (BENCH <name> <value> <unit>)"
	@echo "make bench-peers  Tern's bulk TCP figure beside smoltcp's and lwIP's, interleaved (ROUNDS=20)"
	@echo "make docs    the API reference of pyharness (pdoc), in $(BUILD)/docs/index.html"
	@echo "make fuzz    each fuzz target FUZZ_TIME seconds (default 600), new corpus entries kept"
	@echo "make format  clang-format the C sources"
	@echo "make clean   remove build/, .venv/, out/, artifacts/"
	@echo "make mutate  mutation testing of stack/ and the link code (not in make test; under 45 min)"

# ---------------------------------------------------------------------------
# System packages: check, then install (root) or explain (not root).
# ---------------------------------------------------------------------------
deps:
	@missing=""; \
	have() { command -v "$$1" >/dev/null 2>&1; }; \
	pkg() { dpkg -s "$$1" >/dev/null 2>&1; }; \
	{ have cc && [ -f /usr/include/stdio.h ]; } || missing="$$missing build-essential"; \
	pkg libpcap-dev || [ -f /usr/include/pcap/pcap.h ] || missing="$$missing libpcap-dev"; \
	have cmake || missing="$$missing cmake"; \
	have ninja || missing="$$missing ninja-build"; \
	have clang || missing="$$missing clang"; \
	ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 \
	  || missing="$$missing libclang-rt-dev"; \
	have clang-format || missing="$$missing clang-format"; \
	have $(PYTHON) || missing="$$missing python3 python3-venv python3-dev"; \
	if have $(PYTHON); then \
	  $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	  $(PYTHON) -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
	    || missing="$$missing python3-dev"; \
	fi; \
	have tshark || missing="$$missing tshark"; \
	have ip || missing="$$missing iproute2"; \
	have ping || missing="$$missing iputils-ping"; have curl || missing="$$missing curl"; \
	pkg libslirp-dev || missing="$$missing libslirp-dev"; \
	have chromium || have chromium-browser || missing="$$missing chromium"; \
	have dnsmasq || missing="$$missing dnsmasq-base"; \
	have iperf || missing="$$missing iperf"; \
	{ have busybox && ! ldd "$$(command -v busybox)" >/dev/null 2>&1; } || missing="$$missing busybox-static"; \
	have qemu-system-x86_64 || missing="$$missing qemu-system-x86"; \
	have dpkg-source || missing="$$missing dpkg-dev"; \
	[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing="$$missing debian-archive-keyring"; \
	have dhclient || missing="$$missing isc-dhcp-client"; have dig || missing="$$missing bind9-dnsutils"; \
	have radvd || missing="$$missing radvd"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && have apt-get; then \
	    echo "deps: installing$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "deps: missing package(s):$$missing"; \
	    echo "deps: install them with: sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

# ---------------------------------------------------------------------------
# Python: .venv with pyharness installed editable (+ test extras).
# ---------------------------------------------------------------------------
$(VENV)/.stamp-install: pyproject.toml | deps
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q 'scikit-build-core>=0.10' 'cffi>=1.15'
	$(VPY) -m pip install -q --no-build-isolation -e '.[test]'
	@touch $@

# Rebuild the extension when the C sources or the binding change (incremental).
$(VENV)/.stamp-pyext: $(VENV)/.stamp-install $(PYEXT_INPUTS)
	$(VPY) -m pip install -q --no-build-isolation --no-deps -e .
	@touch $@

venv: $(VENV)/.stamp-install
pyext: $(VENV)/.stamp-pyext

# ---------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------
# The conformance suite against the Tern stack. Exits non-zero if a scenario
# fails (an xfail is not a failure). SEED=N picks the seed.
run: pyext
	@rm -rf $(RUN_OUT)/artifacts $(RUN_OUT)/report.md $(RUN_OUT)/junit.xml
	$(VENV)/bin/pyharness run scenarios --seed $(SEED) --out $(RUN_OUT) -- -q -p no:cacheprovider

# ---------------------------------------------------------------------------
# Bring your own stack (issue 17): third-party stacks as DUTs, their sources fetched from their registries
# at build time (never committed). See docs/dut-contract.md and docs/smoltcp-differences.md.
# ---------------------------------------------------------------------------
SMOLTCP_LIB := duts/smoltcp/target/release/libtern_smoltcp.so
# lwIP also has UDP and ICMP echo sockets: their files join its subset; smoltcp's UDP and echo sockets likewise.
BYOS_LWIP_EXTRA := scenarios/udp/test_udp.py scenarios/icmp/test_icmp.py scenarios/arp/test_arp.py
BYOS_SMOLTCP_EXTRA := scenarios/udp/test_udp.py scenarios/icmp/test_icmp.py
BYOS_SUBSET := scenarios/tcp/test_handshake.py scenarios/tcp/test_close.py scenarios/tcp/test_rst.py \
	scenarios/tcp/test_retransmission.py scenarios/tcp/test_options.py

$(SMOLTCP_LIB): duts/smoltcp/Cargo.toml duts/smoltcp/Cargo.lock $(wildcard duts/smoltcp/src/*.rs)
	@command -v cargo >/dev/null 2>&1 || { echo "smoltcp: cargo is missing (install it with rustup: https://rustup.rs)"; exit 1; }
	cd duts/smoltcp && cargo fetch --locked && cargo build --release --offline --locked -j 2

# The DUT's Python side is a distribution of its own: pip registers its entry point (pyharness.duts: smoltcp).
$(VENV)/.stamp-smoltcp: duts/smoltcp/pyproject.toml | pyext
	$(VPY) -m pip install -q --no-deps -e duts/smoltcp
	@touch $@

.PHONY: smoltcp run-smoltcp byos-test
smoltcp: $(SMOLTCP_LIB) $(VENV)/.stamp-smoltcp

# The whole suite against smoltcp; the run fails if its results differ from docs/smoltcp-differences.md.
# After `make run` (Tern's junit.xml in $(RUN_OUT)), its report compares each scenario with Tern's result.
run-smoltcp: smoltcp
	@rm -rf $(RUN_OUT)/smoltcp
	-$(VENV)/bin/pyharness run --dut smoltcp --seed $(SEED) --out $(RUN_OUT)/smoltcp \
	  $(if $(wildcard $(RUN_OUT)/junit.xml),--compare-with $(RUN_OUT)/junit.xml) -- -q -p no:cacheprovider
	$(VPY) -m pyharness.differences docs/smoltcp-differences.md $(RUN_OUT)/smoltcp/junit.xml

# In make test: the handshake, close, RST, retransmission and options files against each third-party DUT,
# compared with its difference document (a new difference fails until the document says why).
byos-test: smoltcp
	@rm -rf $(RUN_OUT)/byos-smoltcp
	-$(VENV)/bin/pyharness run $(BYOS_SUBSET) $(BYOS_SMOLTCP_EXTRA) --dut smoltcp --seed $(SEED) --out $(RUN_OUT)/byos-smoltcp -- -q -p no:cacheprovider
	$(VPY) -m pyharness.differences docs/smoltcp-differences.md $(RUN_OUT)/byos-smoltcp/junit.xml --subset

# lwIP 2.1 from Debian's source package, built by duts/lwip/Makefile (apt-get source with a private
# deb-src configuration: no root, no change to /etc/apt). See docs/lwip.md and docs/lwip-differences.md.
LWIP_LIB := duts/lwip/build/libtern_lwip.so

.PHONY: lwip lwip-lib run-lwip byos-test-lwip
lwip-lib: deps
	$(MAKE) -C duts/lwip -j 2

$(VENV)/.stamp-lwip: duts/lwip/pyproject.toml | pyext
	$(VPY) -m pip install -q --no-deps -e duts/lwip
	@touch $@

lwip: lwip-lib $(VENV)/.stamp-lwip

run-lwip: lwip
	@rm -rf $(RUN_OUT)/lwip
	-$(VENV)/bin/pyharness run --dut lwip --seed $(SEED) --out $(RUN_OUT)/lwip \
	  $(if $(wildcard $(RUN_OUT)/junit.xml),--compare-with $(RUN_OUT)/junit.xml) -- -q -p no:cacheprovider
	$(VPY) -m pyharness.differences docs/lwip-differences.md $(RUN_OUT)/lwip/junit.xml

byos-test-lwip: lwip
	$(VENV)/bin/pytest duts/lwip/tests -q -p no:cacheprovider
	@rm -rf $(RUN_OUT)/byos-lwip
	-$(VENV)/bin/pyharness run $(BYOS_SUBSET) $(BYOS_LWIP_EXTRA) --dut lwip --seed $(SEED) --out $(RUN_OUT)/byos-lwip -- -q -p no:cacheprovider
	$(VPY) -m pyharness.differences docs/lwip-differences.md $(RUN_OUT)/byos-lwip/junit.xml --subset

# The suite against the Linux kernel (root: TAP + netns), ~3 min; see docs/linux-differences.md.
run-linux: pyext
	$(VENV)/bin/pyharness run --dut linux --seed $(SEED) --out $(RUN_OUT)/linux -- -q -p no:cacheprovider -n 2

# The API reference: every docstring reference checked, then pdoc writes $(BUILD)/docs/.
docs: pyext
	$(VPY) -m pyharness.apidoc $(BUILD)/docs

demo: pyext
	$(VENV)/bin/pyharness demo --out $(DEMO_OUT)

# The seL4 virtio-net ping demo with a real Linux guest (QEMU, TCG) on Tern's vhost-user back-end
# (docs/virtio.md); the guest image is built once into ~/.cache/tern/virtio-guest.
.PHONY: demo-virtio
demo-virtio: pyext
	$(VPY) -m pyharness.virtio_demo --out out/demo-virtio

# ---------------------------------------------------------------------------
# test
# ---------------------------------------------------------------------------
test: format-check c-test asan-test asan-scenarios py-test classic-scenarios fuzz-test byos-test byos-test-lwip
	@echo "make test: all passed"

c-test: deps
	cmake -S . -B $(BUILD) $(GEN) -DTERN_BUILD_TESTS=ON -DTERN_BUILD_BENCH=OFF
	cmake --build $(BUILD)
	ctest --test-dir $(BUILD) --output-on-failure -j $$(nproc)

asan-test: deps
	cmake -S . -B $(BUILD)/asan $(GEN) -DCMAKE_BUILD_TYPE=Debug -DTERN_SANITIZE=ON -DTERN_BUILD_TESTS=ON -DTERN_BUILD_BENCH=OFF
	cmake --build $(BUILD)/asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(BUILD)/asan --output-on-failure -j $$(nproc)

# The scenarios that feed the parsers malformed input (DHCP, DHCPv6, DNS, mDNS, IGMP, the gateway's
# DNS and DHCP), run through an AddressSanitizer+UBSan build of the CFFI extension. Python itself is not
# instrumented: the sanitizer runtime is preloaded and leak checking is off (the interpreter's own).
ASAN_SCENARIOS ?= scenarios/dhcp scenarios/dhcpv6 scenarios/dns scenarios/mdns scenarios/igmp \
  scenarios/gateway/test_dns_server.py scenarios/gateway/test_dhcp_leases.py scenarios/gateway/test_transcript.py
asan-scenarios: pyext
	cmake -S . -B $(BUILD)/asan-py $(GEN) -DCMAKE_BUILD_TYPE=Debug -DTERN_SANITIZE=ON -DTERN_BUILD_PYTHON=ON \
	  -DTERN_BUILD_TESTS=OFF -DTERN_BUILD_BENCH=OFF -DPython_EXECUTABLE=$(abspath $(VPY))
	cmake --build $(BUILD)/asan-py --target _ternffi
	TERN_FFI_DIR=$(BUILD)/asan-py/pyharness LD_PRELOAD=$$($(CC) -print-file-name=libasan.so) \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(VPY) -m pytest $(ASAN_SCENARIOS) -q -p no:cacheprovider -n 2

py-test: pyext
	$(VPY) -m pytest tests/py $(wildcard scenarios) -q

# The scenarios where TCP's loss recovery shows, run again with every Tern host on the classic profile
# (RFC 5681 / 6582 / 6675 as written, no RACK-TLP; --tcp-recovery classic). Scenarios about one recovery
# select it themselves, so both runs pass. `pytest scenarios --tcp-recovery classic` runs them all.
CLASSIC_SCENARIOS ?= scenarios/tcp scenarios/pkt
classic-scenarios: pyext
	$(VPY) -m pytest $(CLASSIC_SCENARIOS) -q -p no:cacheprovider -n 2 --tcp-recovery classic

FUZZ_BUILD ?= $(BUILD)/fuzz
FUZZ_CONFIGURE = cmake -S . -B $(FUZZ_BUILD) $(GEN) -DCMAKE_C_COMPILER=clang -DTERN_FUZZ=ON \
	-DTERN_BUILD_TESTS=OFF -DTERN_BUILD_BENCH=OFF -DTERN_BUILD_EXAMPLES=OFF

# The short fuzz runs (ctest label fuzz-short: a fixed number of inputs per target).
fuzz-test: deps
	$(FUZZ_CONFIGURE)
	cmake --build $(FUZZ_BUILD)
	ctest --test-dir $(FUZZ_BUILD) -L fuzz-short --output-on-failure -j 2

# The long fuzz runs (ctest label fuzz-long): each target FUZZ_TIME seconds (default
# 600), one at a time, then what it found merged, minimised, into fuzz/corpus/<target>.
# A finding fails the run and names the reproducer. FUZZ_TARGET=fuzz_tcp runs one.
FUZZ_TIME ?= 600
FUZZ_TARGET ?=
fuzz: deps
	$(FUZZ_CONFIGURE) -DTERN_FUZZ_TIME=$(FUZZ_TIME)
	cmake --build $(FUZZ_BUILD)
	ctest --test-dir $(FUZZ_BUILD) -L fuzz-long $(if $(FUZZ_TARGET),-R '^$(FUZZ_TARGET)_long$$') \
	  --output-on-failure -V -j 1

# ---------------------------------------------------------------------------
# bench
# ---------------------------------------------------------------------------
bench: deps
	cmake -S . -B $(BUILD)/bench $(GEN) -DCMAKE_BUILD_TYPE=Release -DTERN_BUILD_TESTS=OFF -DTERN_BUILD_BENCH=ON
	cmake --build $(BUILD)/bench
	@for b in $$(find $(BUILD)/bench/bench -maxdepth 1 -type f -name 'bench_*' -perm -u+x | sort); do $$b || exit 1; done
	@if ls bench/*.py >/dev/null 2>&1; then $(MAKE) --no-print-directory pyext >/dev/null && \
	  for p in bench/*.py; do $(VPY) $$p || exit 1; done; fi

# bench-peers: the bulk workload of bench_tcp written for smoltcp (cargo, the duts/smoltcp version) and
# lwIP (Debian's source package through duts/lwip's private apt configuration), run side by side.
ROUNDS ?= 20
.PHONY: bench-peers
bench-peers: deps
	cmake -S . -B $(BUILD)/bench $(GEN) -DCMAKE_BUILD_TYPE=Release -DTERN_BUILD_TESTS=OFF -DTERN_BUILD_BENCH=ON
	cmake --build $(BUILD)/bench --target bench_tcp
	@command -v cargo >/dev/null 2>&1 || { echo "bench-peers: cargo is missing (install it with rustup: https://rustup.rs)"; exit 1; }
	cd bench/peers/smoltcp && cargo fetch --locked && cargo build --release --offline --locked -j 2
	$(MAKE) -C bench/peers/lwip -j 2
	$(PYTHON) bench/peers/bench_peers.py --rounds $(ROUNDS) --build $(BUILD)/bench

# ---------------------------------------------------------------------------
# mutate
# ---------------------------------------------------------------------------
# Each mutant of tools/mutate/mutants.toml in a scratch copy of the tree, its
# area's scenarios and C tests run against it; table in out/mutate/mutants.md,
# last line "BENCH mutants_killed_pct <value> %". MUTATE_ARGS="--only ID -v" etc.
MUTATE_ARGS ?=
.PHONY: mutate
mutate: pyext
	$(VPY) tools/mutate/mutate.py $(MUTATE_ARGS)

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
C_SOURCES = $$(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^build')

format:
	@command -v clang-format >/dev/null || { echo "format: install clang-format (apt-get install -y clang-format)"; exit 1; }
	clang-format -i $(C_SOURCES)

format-check: deps
	@clang-format --dry-run -Werror $(C_SOURCES) && echo "format-check: the C sources follow .clang-format"

clean:
	rm -rf $(BUILD) $(VENV) out artifacts pyharness/_ternffi*.so duts/smoltcp/target duts/lwip/build
