# pioreactord — the two commands a newcomer needs are `make run` and `make test`.
GO       ?= go
BIN      := bin
PKGS     := ./...
TEST_DEPS := mosquitto_sub:mosquitto-clients mosquitto_passwd:mosquitto python3:python3 chromium:chromium

.PHONY: run build test test-deps fuzz lint bench sim-bench clean release deploy-check ui ui-node screenshots ui-bench

## run: build and start a simulated leader with three simulated workers (pio01..pio03), cultures growing
run: ui build
	./$(BIN)/pioreactord --sim --demo

## build: compile the daemon (with the dashboard embedded) and the pio/pios command line into ./bin
build: ui
	$(GO) build -o $(BIN)/pioreactord ./cmd/pioreactord
	$(GO) build -o $(BIN)/pio ./cmd/pio
	ln -sf pio $(BIN)/pios

## test: the release builds and deploy/ checks, vet, the whole suite with the race detector, then the fuzzers
test: test-deps ui deploy-check
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 12m $(PKGS)
	$(MAKE) fuzz

## fuzz: each fuzz target for FUZZTIME beyond its committed corpus (package:Target pairs)
FUZZ_TARGETS := ./pkg/supervisor:FuzzSetPayload ./pkg/api:FuzzDecodeBody
FUZZTIME     ?= 15s
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; done

## test-deps: install the external MQTT clients and the browser the end-to-end tests drive (Debian)
test-deps:
	@missing=""; for pair in $(TEST_DEPS); do cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## ui: build the dashboard into ui/dist, which the daemon embeds (docs/dashboard.md). Installs
## Debian's nodejs and npm when missing, runs `npm ci` when the lockfile changed, and esbuild
## (ui/build.mjs) when a source file did.
UI_SRC := $(shell find ui/src ui/public -type f -o -type d 2>/dev/null)
ui: ui/dist/index.html

ui/dist/index.html: ui/node_modules/.ci-stamp ui/build.mjs ui/package-lock.json $(UI_SRC) | ui-node
	cd ui && node build.mjs

ui/node_modules/.ci-stamp: ui/package-lock.json ui/package.json | ui-node
	cd ui && npm ci --no-audit --no-fund
	touch $@

ui-node:
	@missing=""; command -v node >/dev/null 2>&1 || missing="nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## screenshots: the overview, Pioreactors and a unit page at 1400x1000 and 375x800, into ./screenshots
screenshots: ui test-deps
	PIOREACTORD_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -run TestDashboardScreenshots -v ./cmd/pioreactord/

## ui-bench: the dashboard's figures (time to a drawn overview, bytes, browser heap, leader CPU);
## PIOREACTORD_BENCH_SIM_HOURS=10 watches the heap for 10 simulated hours (10 wall minutes)
ui-bench: ui test-deps
	$(GO) test -run '^$$' -bench Dashboard -benchtime 1x -timeout 60m -v ./cmd/pioreactord/

## lint: gofmt, go vet and staticcheck must be clean
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

## sim-bench: a 24 h, 3-unit turbidostat + thermostat + stirring + OD + growth-rate day, in virtual time
sim-bench:
	SIM_BENCH=1 $(GO) test -count=1 -run TestSimBench -v ./internal/simbench

## bench: benchmarks that carry the speed and memory targets
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## release: static, stripped linux/arm64 and linux/arm (GOARM 6 and 7) daemons in ./dist, version stamped
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
DIST    := dist
release: ui
	@mkdir -p $(DIST)
	@for t in arm64: arm:7 arm:6; do a=$${t%%:*}; v=$${t##*:}; out=$(DIST)/pioreactord-linux-$$a$${v:+v$$v}; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$a GOARM=$$v $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $$out ./cmd/pioreactord || exit 1; \
	  stat -c '%s %n' $$out | awk '{ printf "%-36s %5.1f MB\n", $$2, $$1 / 1048576 }'; done

## deploy-check: the release builds, the systemd units verify, install.sh is idempotent (CI)
deploy-check: ui release build
	bash deploy/check.sh $(BIN)/pioreactord

clean:
	rm -rf $(BIN) $(DIST)
	find ui/dist -mindepth 1 ! -name .gitkeep -delete
