# olops — build, test, benchmark and demo.
GO        ?= go
BIN       := bin/olops
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE      ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
export CGO_ENABLED = 0
# The engine's StandardScaler (AVX2, 4 features per instruction) and
# GaussianNB (AVX-512, 8) loops use Go's experimental simd/archsimd
# package, which exists only under this experiment. A build without it, or
# a CPU without those instructions, runs the same loops one feature at a
# time with the same results (the tests hold both to that).
export GOEXPERIMENT = simd
# At GOAMD64=v3 the compiler fuses x*y+z into one rounding (FMA): River
# rounds twice, and so do the vector loops. v1 keeps every loop's bits.
export GOAMD64 = v1

.PHONY: build test lint deps bench demo completions image release-check clean

build: ## the static olops binary in bin/
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/olops

# Installs what the tests use on a fresh machine (Debian packages), once.
deps:
	@missing=""; \
	for p in prometheus tmux; do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
		|| { echo "could not install$$missing: install them by hand"; exit 1; }; \
	fi

STATICCHECK_VERSION := v0.8.2
STATICCHECK = $(shell $(GO) env GOPATH)/bin/staticcheck
lint:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(STATICCHECK) -version 2>/dev/null | grep -q '($(patsubst v%,%,$(STATICCHECK_VERSION)))' \
		|| $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

test: deps lint build ## every test: unit, race, integration, end to end, release
	$(GO) test -count=1 -timeout 20m ./...
	GOEXPERIMENT= $(GO) test -count=1 ./internal/learn/preprocess/ ./internal/learn/bayes/ ./internal/learn/models/
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 15m ./server/... ./internal/controller/...
	$(MAKE) release-check

bench: build ## engine, server and container benchmarks, as ratios against baselines
	$(GO) run ./internal/bench

demo: build ## serve a default model, replay a drifting synthetic stream, print the scores
	./scripts/demo.sh

completions: build
	@mkdir -p completions
	for sh in bash zsh fish powershell; do ./$(BIN) completion $$sh > completions/olops.$$sh; done

image: build ## the FROM-scratch image olops:$(VERSION)
	docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(COMMIT) --build-arg CREATED=$(DATE) -t olops:$(VERSION) -t olops:latest .

# goreleaser from the Go module proxy (this exact version resolves here),
# then its config check and a local snapshot release: every archive,
# checksums, the image and the Homebrew formula, nothing published. The
# last step of make test: the six cross builds take a few minutes.
GORELEASER_VERSION := v2.15.1
GORELEASER = $(shell $(GO) env GOPATH)/bin/goreleaser
release-check:
	@$(GORELEASER) --version 2>/dev/null | grep -q '$(patsubst v%,%,$(GORELEASER_VERSION))' \
		|| $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	$(GORELEASER) check
	$(GORELEASER) release --snapshot --clean --skip=publish

clean:
	rm -rf bin dist
