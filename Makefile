# Environments are built with uv from the same lock files the Apptainer images install.
UV      ?= python3 -m uv
UV_PIN  := uv==0.13.9
PYTHON  ?= 3.11
VENVS   := .venvs
CORE    := $(VENVS)/core/bin/python

NEXTFLOW = $(shell bash scripts/install-nextflow)

.PHONY: envs test demo locks clean uv nextflow images

LOCKS   := $(patsubst containers/%.lock,%,$(wildcard containers/*.lock))
ENVS    := $(filter-out %-cuda,$(LOCKS))  # core + every backend spec's env (tests/test_containers.py); <env>-cuda: GPU images only

envs: $(foreach e,$(ENVS),$(VENVS)/$(e)/.built)

uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install -q $(UV_PIN)

$(VENVS)/%/.built: containers/%.lock pyproject.toml | uv
	$(UV) venv -q --clear -p $(PYTHON) $(VENVS)/$*
	$(UV) pip sync -q -p $(VENVS)/$*/bin/python --require-hashes containers/$*.lock
	$(UV) pip install -q -p $(VENVS)/$*/bin/python --no-deps -e .
	touch $@

# Apptainer images from the same lock files (where Apptainer exists, e.g. a cluster login node),
# named by edlbench's version as nextflow.config expects them: containers/<env>-<version>.sif.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
images: $(patsubst %.def,%-$(VERSION).sif,$(wildcard containers/*.def))

containers/%-$(VERSION).sif: containers/%.def containers/%.lock pyproject.toml
	apptainer build --force $@ $<

locks: | uv
	for e in $(LOCKS); do $(UV) pip compile -q --python-version $(PYTHON) --generate-hashes \
	  $$([ -f containers/$$e.exclude ] && echo --excludes containers/$$e.exclude) containers/$$e.in -o containers/$$e.lock; done

nextflow:
	@bash scripts/install-nextflow >/dev/null

test: envs nextflow
	$(CORE) -m pytest -q --durations=8 --ignore=tests/backends
	for e in $(filter-out core,$(ENVS)); do $(VENVS)/$$e/bin/python -m pytest -q --durations=8 tests/backends --env $$e || exit 1; done

demo: envs nextflow
	$(NEXTFLOW) run main.nf -profile demo,local --outdir results/demo

clean:
	rm -rf $(VENVS) results work .nextflow* tools
