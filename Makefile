# vrrpctl — build, test, demo. Every target that needs system packages installs
# them first (Debian, as root), so a fresh machine needs only Go and this file.

GO      ?= go
BIN     ?= ./vrrpctl
# The Debian packages of the build and the tests, listed in one file with the
# programs the tests run from each (internal/testenv checks the list).
PKGS    := $(shell sed 's/\#.*//' .ci/debian-packages | awk 'NF { print $$1 }')
# The packages the build alone needs (cgo and libpcap), for make deb.
BUILD_PKGS := gcc libpcap-dev
FUZZTIME ?= 10s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Packages whose tests need no root, namespaces or other program, run again
# under the race detector (vrrpd: its state machine's tests only).
RACE_PKGS := ./decode ./capture ./kaconf ./analyze ./merge ./report ./vrrp ./internal/testcheck
RACE_VRRPD := ^(TestConformance|TestFromKeepalived|TestFromKeepalivedRefuses|TestFromKeepalivedUnsupported|TestFromKeepalivedTracking|TestDefaultGARP|TestDefaultNames|TestTrackResult|TestScriptRiseFall|TestNotifierOrder|TestSyncFaultEvents|FuzzReceive)$$

.PHONY: all build deps build-deps deb test lint race fuzz demo bench screenshots clean readme

all: build

build:
	$(GO) build -o $(BIN) ./cmd/vrrpctl

# readme rewrites the README's table of keepalived keywords from the code's
# (kaconf.Keywords); TestReadmeKeywordTable fails when they differ.
readme:
	$(GO) generate ./kaconf

# deps installs the packages the build and the tests use, when any is
# missing: one apt-get update, then one apt-get install. No service a
# package brings is started (Prometheus among them: the tests run their own
# server in a namespace): a policy-rc.d that denies every start is put in
# place for the install when the machine has none, and removed after;
# where systemd runs, the prometheus and frr units the install enabled are
# disabled again.
deps:
	@$(call install-missing,$(PKGS))

# build-deps installs what the build alone needs (make deb).
build-deps:
	@$(call install-missing,$(BUILD_PKGS))

define install-missing
missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
	echo "installing:$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	policy=/usr/sbin/policy-rc.d; \
	if [ ! -e $$policy ]; then \
		trap 'rm -f '$$policy EXIT INT TERM; \
		printf '#!/bin/sh\n# make deps: no service starts during the install\nexit 101\n' > $$policy; \
		chmod 755 $$policy; \
	fi; \
	apt-get update -q && apt-get install -y -q $$missing || exit 1; \
	case " $$missing " in *" prometheus "*) \
		if [ -d /run/systemd/system ]; then \
			systemctl disable --now prometheus.service prometheus-node-exporter.service >/dev/null 2>&1 || true; \
		fi;; \
	esac; \
	case " $$missing " in *" frr "*) \
		if [ -d /run/systemd/system ]; then \
			systemctl disable --now frr.service >/dev/null 2>&1 || true; \
		fi;; \
	esac; \
fi
endef

# deb builds the Debian package into dist/: vrrpctl, a man page per command,
# bash, zsh and fish completions, the systemd units, the Prometheus rules
# and the Grafana dashboard (packaging/build-deb, with nfpm run as a Go
# module; packaging/nfpm.yaml lists the contents).
deb: build-deps
	GO=$(GO) packaging/build-deb dist

# test runs every check and test: go vet, go.mod tidy, staticcheck, every
# test (unit, decoder cross-checks against tshark, namespace integration
# with keepalived) with any skipped test counted as a failure, the race
# detector over the packages that need no root, and a short fuzzing pass
# over every fuzz target.
test: deps
	$(GO) vet ./...
	$(GO) mod tidy -diff
	$(MAKE) lint
	$(GO) test -count=1 -p 1 -timeout 25m -json ./... | $(GO) run ./internal/testcheck
	$(MAKE) race
	$(MAKE) fuzz

# lint runs staticcheck: any finding fails.
lint:
	@out=$$($(GO) run $(STATICCHECK) ./... 2>&1 | grep -v -e '^go: downloading ' -e '^exit status '); \
	if [ -n "$$out" ]; then echo "staticcheck:"; printf '%s\n' "$$out"; exit 1; fi; \
	echo "staticcheck: clean"

race:
	$(GO) test -count=1 -p 1 -race $(RACE_PKGS)
	$(GO) test -count=1 -race -run '$(RACE_VRRPD)' ./vrrpd

# fuzz runs every fuzz target for FUZZTIME; a package whose targets cannot
# be listed (it does not build) fails the run.
fuzz:
	@set -e; pkgs=$$($(GO) list ./...) || exit 1; log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	for pkg in $$pkgs; do \
		list=$$($(GO) test -list '^Fuzz' $$pkg 2>&1) || { echo "go test -list $$pkg failed:"; echo "$$list"; exit 1; }; \
		for t in $$(echo "$$list" | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg >$$log 2>&1 || { cat $$log; exit 1; }; \
		done; \
	done

# demo builds vrrpctl and stages a failover in network namespaces.
demo: deps build
	$(BIN) run-test-failover

bench: deps
	bench/run

# screenshots renders the README's pictures of the HTML report (docs/):
# the browser test, in headless Chromium, on the reference failover and on
# the client that ignores GARPs, saving each report in the light and the
# dark scheme and the close-up of its first failover.
screenshots: deps
	VRRPCTL_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 -run 'TestHTMLInBrowser/^(failover|client-ignores-garp)$$' ./cmd/vrrpctl

clean:
	rm -f $(BIN)
	rm -rf dist
