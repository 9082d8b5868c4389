# Two commands matter (README): `make demo` and `make test`. Both install
# what they need first (scripts/setup.sh), idempotently.
.PHONY: demo test bench fuzz setup model build build-dev serve help
.DEFAULT_GOAL := help

PORT ?= 8000

help:
	@echo "make demo   - set up, build pkg/, serve the demo on http://127.0.0.1:$(PORT)/"
	@echo "make test   - set up, then run every test (native, wasm in Chromium, end-to-end)"
	@echo "make bench  - set up, build, run the browser benchmark and print a table (BENCH_ARGS=\"--runs 5\")"
	@echo "make fuzz   - long fuzzing of model bytes and JSON inputs (FUZZ_ITERS=200000)"
	@echo "make setup | model | build | build-dev | serve  - the single steps"

demo:
	PORT=$(PORT) scripts/demo.sh

test:
	scripts/test.sh

bench:
	scripts/bench.sh $(BENCH_ARGS)

# Long fuzzing runs (the normal suite runs a short bounded one).
FUZZ_ITERS ?= 200000
fuzz:
	BANNERET_FUZZ_ITERS=$(FUZZ_ITERS) cargo test --test fuzz_model_bytes --test fuzz_json_inputs -- --nocapture

setup:
	scripts/setup.sh all

model:
	scripts/setup.sh model

build:
	scripts/setup.sh rust nightly wasm-bindgen wasm-pack node
	scripts/build-wasm.sh

build-dev:
	scripts/setup.sh rust nightly wasm-bindgen wasm-pack
	scripts/build-wasm.sh --dev

serve:
	python3 scripts/serve.py --port $(PORT)
