# vrrpctl — build, test, demo. Every target that needs system packages installs
# them first (Debian, as root), so a fresh machine needs only Go and this file.

GO      ?= go
BIN     ?= ./vrrpctl
# The Debian packages of the build and the tests, listed in one file with the
# programs the tests run from each (internal/testenv checks the list).
PKGS    := $(shell sed 's/\#.*//' .ci/debian-packages | awk 'NF { print $$1 }')
FUZZTIME ?= 10s

.PHONY: all build deps test unit fuzz demo bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/vrrpctl

# deps installs the packages the build and the tests use, when any is
# missing: one apt-get update, then one apt-get install.
deps:
	@missing=""; for p in $(PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q $$missing; \
	fi

# test runs every test: unit, decoder cross-checks against tshark, namespace
# integration with keepalived, and a short fuzzing pass over every fuzz target.
test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -p 1 -timeout 25m ./...
	$(MAKE) fuzz

fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg >/tmp/vrrpctl-fuzz.log 2>&1 || { cat /tmp/vrrpctl-fuzz.log; exit 1; }; \
		done; \
	done

# demo builds vrrpctl and stages a failover in network namespaces.
demo: deps build
	$(BIN) run-test-failover

bench: deps
	bench/run

clean:
	rm -f $(BIN)
