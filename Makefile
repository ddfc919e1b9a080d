# Two set-up commands from a fresh clone: `make book` and `make test`. Each creates .venv itself.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TOOLS := PYTHONPATH=$(CURDIR)/tools $(PY)  # the build tooling (tools/booktools), outside the package
MODEL ?= all

.PHONY: test train book explorer npm book-student book-translations locale check-locale notebooks info evaluate bench source-hash check-site check-book clear-cache

# The key that decides whether `make book` may reuse _build (tools/source_hash.py: the package, the models,
# the pinned environment, the configuration, the benchmark results and the CIFAR-10 files it reads).
SOURCE_HASH_CMD = $(PY) tools/source_hash.py

$(STAMP): pyproject.toml requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e ".[dev]"
	touch $(STAMP)

# Both cores (pytest-xdist); PYTEST_WORKERS=1 runs them in one process.
PYTEST_WORKERS ?= 2
test: $(STAMP) npm
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(PYTEST_WORKERS) tests

train: $(STAMP)
	$(PY) -m cnnbook train --model $(MODEL) --resume

info: $(STAMP)
	$(PY) -m cnnbook info

evaluate: $(STAMP)
	$(PY) -m cnnbook evaluate --model all

bench: $(STAMP)
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_convolution.py

book: $(STAMP)
	@hash=$$($(SOURCE_HASH_CMD)); \
	if [ -d _build ] && [ "$$(cat _build/.source-hash 2>/dev/null)" != "$$hash" ]; then \
		echo "code/, best_models/, requirements.txt, _config.yml or the data changed since the last build: clearing _build"; rm -rf _build; fi; \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) tools/execute_chapters.py _build \
		&& $(MAKE) --no-print-directory explorer \
		&& PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/jupyter-book build book --warningiserror --keep-going \
		&& echo "$$hash" > _build/.source-hash
	$(MAKE) --no-print-directory book-translations EDITION= SITE=_build/html
	$(TOOLS) -m booktools.notebooks --downloads  # the .ipynb download buttons, every language: plain Markdown, with outputs

# The live explorer's files (book/_ext/explorer.py serves them from every edition's _static/):
# TensorFlow.js from npm (package.json, package-lock.json; `npm ci` when the lock file changed) and
# cnnbook.book.explorer's export of the models and test images, with the Keras answers `make
# check-site` compares the browser's with (_build/explorer/reference, not published). Without npm the
# book still builds; the explorer's place says what to install.
EXPLORER := _build/explorer
TFJS_FILES := tfjs/dist/tf.min.js tfjs-backend-wasm/dist/tf-backend-wasm.min.js \
	tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm \
	tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm
NPM_STAMP := node_modules/.package-lock.json
.PHONY: npm
npm:  # TensorFlow.js from the lock file, again only when the lock changed (make test's browser tests use it)
	@if command -v npm >/dev/null 2>&1; then \
		if [ ! $(NPM_STAMP) -nt package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error || exit 1; fi; \
	else echo "note: npm (Node.js 18 or newer) not found: the book is built without its live explorer"; fi

explorer: $(STAMP) npm
	@if [ -f $(NPM_STAMP) ]; then mkdir -p $(EXPLORER)/static/tfjs \
		&& for f in $(TFJS_FILES); do cp node_modules/@tensorflow/$$f $(EXPLORER)/static/tfjs/ || exit 1; done; fi
	@test -f $(EXPLORER)/static/explorer-data/images.json \
		|| $(PY) -m cnnbook.book.explorer $(EXPLORER)/static/explorer-data --reference $(EXPLORER)/reference

# Each translated edition (LANGUAGES, book/locales/<lang>): the same chapters, the reader build's execution
# cache, the catalogues' sentences, into SITE/<lang>/ (book/_ext/languages.py: page.html <-> ru/page.html).
# An untranslated sentence, figure word or alt text is a warning, so --warningiserror fails the build.
LANGUAGES := ru
EDITION ?=
SITE ?= _build/html
book-translations: $(STAMP)
	@for lang in $(LANGUAGES); do \
		out=_build/$${EDITION:+$$EDITION-}$$lang; \
		$(TOOLS) -m booktools.editions $$out/_config.yml --language $$lang $${EDITION:+--$$EDITION} || exit 1; \
		PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/jupyter-book build book --config $$out/_config.yml \
			--path-output $$out --all --warningiserror --keep-going || exit 1; \
		rm -rf $(SITE)/$$lang && cp -r $$out/_build/html $(SITE)/$$lang || exit 1; \
	done

# The student edition: the same book without the solutions (sphinx-exercise's hide_solutions, no
# _sources/, no download button), its configuration derived from _config.yml by booktools.editions.
# It reuses the reader build's execution cache (_build/.jupyter_cache), so no chapter runs again.
STUDENT_DIR := _build/student
book-student: book
	$(TOOLS) -m booktools.editions $(STUDENT_DIR)/_config.yml --student
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/jupyter-book build book --config $(STUDENT_DIR)/_config.yml \
		--path-output $(STUDENT_DIR) --warningiserror --keep-going
	$(MAKE) --no-print-directory book-translations EDITION=student SITE=$(STUDENT_DIR)/_build/html

# The built pages in headless Chromium (Debian's chromium + chromium-driver, selenium): console
# errors, raw markup, unrendered math, images and their alt text, search; phone-width screenshots.
check-site: $(STAMP)
	$(PY) tools/check_site.py

# Every check of the built book, one target (CI and the Pages workflow run it after `make book` and, when
# built, `make book-student`): the HTML and the notebooks, no solution in the student edition, then the
# pages of both editions in headless Chromium.
check-book: $(STAMP)
	$(PY) -m pytest -q tests/book/test_html.py tests/book/test_notebook_values.py tests/book/test_student_edition.py tests/book/test_translation.py
	$(PY) tools/check_site.py

# The translated editions' catalogues (tools/booktools/translation.py): extract the sentences of the
# executed chapters (needs `make book` first; nothing executes again), merge them into
# book/locales/<lang>/LC_MESSAGES/*.po with sphinx-intl, then list what is left to translate.
locale: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(TOOLS) -m booktools.translation update

check-locale: $(STAMP)
	$(TOOLS) -m booktools.translation check

notebooks: $(STAMP)
	$(TOOLS) -m booktools.notebooks

# The stored model outputs (.cache/outputs, cnnbook.core.outputs) survive `rm -rf _build`; this empties them.
clear-cache: $(STAMP)
	$(PY) -m cnnbook clear-cache

source-hash:  # the key that decides whether `make book` may reuse _build (tests/core/test_faults.py)
	@$(SOURCE_HASH_CMD)

# Assignments (assignments/*.py, otter-grader master notebooks as jupytext py:percent): `make assignments`
# writes each student notebook (no solutions, public tests) and autograder zip to _build/assignments/,
# and each translated edition's to _build/assignments/<lang>/ (the masters' Markdown from book/locales);
# `make grade SUBMISSION=path.ipynb [ASSIGNMENT=name]` grades one notebook offline (table + JSON result).
.PHONY: assignments grade
assignments: $(STAMP)
	$(PY) -m cnnbook.grading assign
	@for lang in $(LANGUAGES); do \
		$(TOOLS) -m booktools.translation masters $$lang _build/assignments/$$lang/sources >/dev/null || exit 1; \
		$(PY) -m cnnbook.grading assign --sources _build/assignments/$$lang/sources --build _build/assignments/$$lang || exit 1; \
	done  # each language's student notebooks: the same masters (booktools.translation), the same autograder

grade: assignments
	@test -n "$(SUBMISSION)" || { echo "usage: make grade SUBMISSION=path.ipynb [ASSIGNMENT=name]"; exit 1; }
	$(PY) -m cnnbook.grading grade "$(SUBMISSION)" $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))
