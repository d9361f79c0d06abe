# The two commands: `make run` and `make test`. Both install what is missing first.
BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
TSAN_DIR   ?= build-tsan
FUZZ_DIR   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= multipart image_probe model_format tensor_json jwt ip_address model_config \
                http_request
BUILD_TYPE ?= RelWithDebInfo
CONFIG     ?= config/cinfer.example.yaml
PYTEST     := .venv/bin/pytest
JOBS       ?= $(shell nproc)
PYTEST_JOBS ?= $(JOBS)

.PHONY: all deps console console-test build run test e2e test-slow unit integration asan tsan thread-safety fuzz fuzz-deps fuzz-build \
        deploy-lint test-deploy \
        fuzz-merge format format-check clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

# The web console: npm ci when the lockfile changed, vite build when web/ changed.
WEB_SOURCES := $(shell find web/src web/public web/scripts -type f 2>/dev/null) web/index.html \
               web/vite.config.ts web/tsconfig.json web/package.json
web/node_modules/.ci-stamp: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/index.html: web/node_modules/.ci-stamp $(WEB_SOURCES)
	cd web && npm run --silent build

console: deps web/dist/index.html

build: deps console $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR)

run: build
	$(BUILD_DIR)/cinfer serve --config $(CONFIG)

unit: build
	cd $(BUILD_DIR) && ctest -j$(JOBS) --output-on-failure --timeout 600

# Two passes: the suite under pytest-xdist (whole files per worker, a server per test),
# then the modules marked serial (wall-clock limits) alone.
integration: build
	CINFER_BIN=$(CURDIR)/$(BUILD_DIR)/cinfer $(PYTEST) -q -n $(PYTEST_JOBS) --dist loadfile \
	  -m "not serial" tests/integration
	CINFER_BIN=$(CURDIR)/$(BUILD_DIR)/cinfer $(PYTEST) -q -m serial tests/integration

# The console's component tests (Vitest, jsdom).
console-test: console
	cd web && npx vitest run

# The console in a real headless Chromium against the real binary (Playwright);
# screenshots under tests/e2e/out/ (E2E_OUT overrides).
e2e: build
	CINFER_BIN=$(CURDIR)/$(BUILD_DIR)/cinfer $(PYTEST) -q tests/e2e

# The slow campaigns (kill -9 under traffic, 10-minute soak); not part of `make test`.
# SOAK_SECONDS, KILL9_KILLS, KILL9_MAX_SECONDS, KILL9_SEED tune them.
test-slow: build
	CINFER_BIN=$(CURDIR)/$(BUILD_DIR)/cinfer $(PYTEST) -q -s tests/slow

$(ASAN_DIR)/build.ninja:
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCINFER_SANITIZE=ON

asan: deps $(ASAN_DIR)/build.ninja
	cmake --build $(ASAN_DIR) --target cinfer_unit_tests cinfer_fuzz_all
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp \
	  ctest -j$(JOBS) --output-on-failure --timeout 900

# ThreadSanitizer over the unit tests of the concurrent parts: scheduler, serving registry,
# token service and rate windows, usage recorder, inference-log writer, async requests,
# runtime configuration, decode budget, login throttle. (Suites that run ONNX Runtime,
# LibTorch or OpenCV threads are left out: those libraries are not instrumented.)
TSAN_SUITES := ModelSchedulerTest ConcatRowsTest SplitRowsTest ServingRegistryTest \
               TokenServiceTest TokenStateTest SlidingWindowTest UsageRecorderTest \
               InferenceLogWriterTest AsyncRequestsTest RuntimeConfigTest DecodeBudgetTest \
               LoginThrottleTest RepeatFilterTest StatementCacheTest ModelLifecycleTest \
               ModelSchedulerInstanceTest ModelSchedulerClockTest
empty :=
space := $(empty) $(empty)
TSAN_TESTS := $(subst $(space),:,$(addsuffix .*,$(strip $(TSAN_SUITES))))

$(TSAN_DIR)/build.ninja:
	cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCINFER_TSAN=ON \
	  -DCINFER_BUILD_FUZZ_REPLAY=OFF

tsan: deps $(TSAN_DIR)/build.ninja
	cmake --build $(TSAN_DIR) --target cinfer_unit_tests
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  GTEST_FILTER='$(TSAN_TESTS)' $(TSAN_DIR)/cinfer_unit_tests --gtest_brief=1

# Clang's thread-safety analysis (ABSL_GUARDED_BY and friends) over every source of src/
# that sees a lock, from the build's compile commands; parsing only.
thread-safety: build
	JOBS=$(JOBS) python3 scripts/check_thread_safety.py $(BUILD_DIR)

# The Helm chart and the compose file (docs/DEPLOY.md): helm v3.22.0 built from source with
# Go into third_party/helm (minutes the first time, then cached), lint + render + checks of
# every security setting, and the compose/Prometheus/Grafana files checked together.
deploy-lint: build
	@scripts/install-helm.sh
	CINFER_BIN=$(CURDIR)/$(BUILD_DIR)/cinfer $(PYTEST) -q tests/deploy/test_helm.py tests/deploy/test_compose.py

# The container image under Podman (docs/DEPLOY.md): Podman when missing, the image (a
# debootstrap base the first time; the build stage compiles cinfer and the console, with
# ccache and npm caches kept between builds), then the container test. Run by .ci/run after
# `make test`, not inside it: uncached it takes ~20 minutes on 2 idle cores.
DEPLOY_IMAGE ?= localhost/cinfer:$(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
test-deploy: deps
	deploy/install-podman.sh
	CINFER_IMAGE=$(DEPLOY_IMAGE) deploy/build-image.sh
	CINFER_IMAGE=$(DEPLOY_IMAGE) $(PYTEST) -q tests/deploy/test_container.py

# libFuzzer (clang, docs/FUZZING.md): each target runs FUZZ_SECONDS on a scratch corpus.
fuzz-deps:
	@scripts/install-deps.sh --fuzz

$(FUZZ_DIR)/build.ninja: | fuzz-deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCINFER_FUZZ=ON -DCINFER_BUILD_TESTS=OFF -DCINFER_WITH_LIBTORCH=OFF -DCINFER_WITH_OPENCV_DNN=OFF

fuzz-build: fuzz-deps $(FUZZ_DIR)/build.ninja
	cmake --build $(FUZZ_DIR)

fuzz: fuzz-build
	tests/fuzz/run-fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Adds the inputs of the scratch corpora that bring new coverage to tests/fuzz/corpus.
fuzz-merge: fuzz-build
	tests/fuzz/run-fuzz.sh --merge $(FUZZ_DIR) $(FUZZ_TARGETS)

# Every suite, with its wall time at the end.
test: build
	@set -e; t0=$$(date +%s); \
	$(MAKE) --no-print-directory unit; ta=$$(date +%s); \
	$(MAKE) --no-print-directory thread-safety; t1=$$(date +%s); \
	$(MAKE) --no-print-directory console-test; t2=$$(date +%s); \
	$(MAKE) --no-print-directory integration; t3=$$(date +%s); \
	$(MAKE) --no-print-directory e2e; t4=$$(date +%s); \
	$(MAKE) --no-print-directory deploy-lint; t7=$$(date +%s); \
	$(MAKE) --no-print-directory asan; t5=$$(date +%s); \
	$(MAKE) --no-print-directory tsan; t6=$$(date +%s); \
	echo "make test: unit $$((ta - t0)) s, thread-safety $$((t1 - ta)) s, console $$((t2 - t1)) s, integration $$((t3 - t2)) s," \
	     "e2e $$((t4 - t3)) s, deploy-lint $$((t7 - t4)) s, asan $$((t5 - t7)) s, tsan $$((t6 - t5)) s"; \
	echo "make test: all suites passed"

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files 'src/*.cc' 'src/*.h')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(FUZZ_DIR) web/dist web/node_modules
