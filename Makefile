# Two commands do everything on a fresh machine:  `make run`  and  `make test`.
# Both create .venv and install the package into it on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NP ?= 2

# OpenMPI refuses to start as root and to run more ranks than cores unless told; allow both.
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export PRTE_MCA_rmaps_default_mapping_policy := :oversubscribe

.PHONY: install lint run run-mpi system-deps test test-slow test-all clean

# Offscreen OpenGL for MuJoCo videos (--play --video): EGL and OSMesa, software-rendered without a GPU.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q --no-install-recommends libegl1 libgl1-mesa-dri libosmesa6

install: $(VENV)/.installed

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[test]"
	touch $@

# Trains once; later runs resume from the checkpoint (already done) and only play.
RUN_CKPT := checkpoints/cartpole
run: install
	$(PY) run.py --alg ppo --env CartPole-v1 --num_timesteps 150000 --log_path logs/cartpole \
		--save_path $(RUN_CKPT) $(if $(wildcard $(RUN_CKPT)/checkpoint),--load_path $(RUN_CKPT)) --play

run-mpi: install
	$(VENV)/bin/mpirun -n $(NP) $(PY) run.py --alg ppo --env Hopper-v5 --num_timesteps 50000 --progress false

test: install lint
	$(PY) -m pytest -m "not slow" -q -n auto --dist loadfile

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test-slow: install
	$(PY) -m pytest -m slow -q

test-all: install
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
