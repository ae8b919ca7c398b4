# Two entry points, both doing all set-up on a fresh machine:
#   make run    - the desktop app (ARGS="--source clip.mp4" to pass options)
#   make test   - the test suite (what .ci/run calls)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-nodeps.txt pyproject.toml | cksum | cut -d' ' -f1)
FACE_MODEL := models/face_detection_short_range.tflite

.PHONY: setup run test bench lint
setup: $(STAMP) $(FACE_MODEL)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-* && touch $@

$(FACE_MODEL): | $(STAMP)
	$(PY) -m c3ae.detect.face_models

run: setup
	$(PY) main.py $(ARGS)

# PYTHONFAULTHANDLER: a Python process of the run (pytest, or a child it started) that is
# stopped with SIGABRT prints every thread's stack, also after pytest has finished (.ci/run)
test: setup
	QT_QPA_PLATFORM=offscreen PYTHONFAULTHANDLER=1 $(PY) -m pytest -q tests

lint: setup
	$(PY) -m ruff check .

bench: setup
	$(PY) bench/engine.py
	$(PY) bench/pipeline.py
	$(PY) bench/resolutions.py
	$(PY) bench/ceiling.py
	$(PY) bench/window_worker.py
