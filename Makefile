# The two commands: `make run` and `make test`. Both install what is missing first.
BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
CONFIG     ?= config/cinfer.example.yaml
PYTEST     := .venv/bin/pytest

.PHONY: all deps build run test unit integration asan format format-check clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR)

run: build
	$(BUILD_DIR)/cinfer serve --config $(CONFIG)

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 300

integration: build
	CINFER_BIN=$(CURDIR)/$(BUILD_DIR)/cinfer $(PYTEST) -q tests/integration

$(ASAN_DIR)/build.ninja:
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCINFER_SANITIZE=ON

asan: deps $(ASAN_DIR)/build.ninja
	cmake --build $(ASAN_DIR) --target cinfer_unit_tests cinfer_fuzz_all
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp \
	  ctest --output-on-failure --timeout 600

test: build
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory integration
	$(MAKE) --no-print-directory asan
	@echo "make test: all suites passed"

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files 'src/*.cc' 'src/*.h')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
