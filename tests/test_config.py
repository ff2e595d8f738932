"""baselines_tf2.config: one typed, documented home per setting; one validate() per config."""

import dataclasses

import pytest

from baselines_tf2.config import PGConfig, PolicyConfig, PPOConfig, RunConfig, split_settings
from baselines_tf2.errors import ConfigError
from baselines_tf2.ppo import learn
from baselines_tf2.ppo.defaults import ALGS, presets
from baselines_tf2.schedules import LinearAnneal


@pytest.mark.parametrize("cls", [RunConfig, PPOConfig, PGConfig, PolicyConfig])
def test_every_field_is_documented_and_the_defaults_validate(cls):
    for f in dataclasses.fields(cls):
        assert len(f.metadata["doc"]) > 15, f.name
        assert f.type in ("int", "float", "bool", "str", "str | None", "Schedule"), (f.name, f.type)
        if f.metadata["choices"]:
            assert f.default in f.metadata["choices"], f.name
    config = cls(max_timesteps=1) if cls is RunConfig else cls()
    config.validate()


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("env_type", ["mujoco", "atari"])
def test_every_preset_validates(alg, env_type):
    chosen = presets(alg, env_type)
    chosen.algo.validate()
    chosen.policy.validate()
    assert isinstance(chosen.algo, PGConfig if alg == "pg" else PPOConfig)
    assert presets(alg, env_type).algo is not chosen.algo  # fresh copies


@pytest.mark.parametrize(
    "config, message",
    [
        (PPOConfig(optim_epochs=0), "optim_epochs must be a positive integer, got 0"),
        (PPOConfig(optim_epochs=2.0), "optim_epochs must be a positive integer, got 2.0"),
        (PPOConfig(gamma=1.5), r"gamma must be in \[0, 1\], got 1.5"),
        (PPOConfig(clip_param=LinearAnneal(-0.1)), "clip_param must be > 0, got -0.1"),
        (PPOConfig(loss="clipped"), "loss must be one of clip, none, fixed_kl, adaptive_kl, got 'clipped'"),
        (PPOConfig(loss="adaptive_kl", kl_target=0.0), "adaptive_kl needs kl_target > 0"),
        (PPOConfig(schedule="linear", optim_stepsize=LinearAnneal(3e-4)), "would anneal twice"),
        (PPOConfig(vf_coef=float("nan")), "vf_coef must be >= 0, got nan"),
        (PGConfig(pg_weight="advantage"), "pg_weight must be one of return, reward_to_go, gae"),
        (PolicyConfig(precision="bfloat16"), "precision bfloat16 is for CNN policies"),
        (RunConfig(), "set at least one of max_timesteps"),
        (RunConfig(max_timesteps=10, schedule_timesteps=5), "schedule_timesteps 5 is below max_timesteps 10"),
        (RunConfig(max_iters=1, num_env=0), "num_env must be a positive integer, got 0"),
        (RunConfig(max_iters=1, action_masking="yes"), "action_masking must be one of auto, on, off, got 'yes'"),
    ],
)
def test_validate_names_the_setting(config, message):
    with pytest.raises(ConfigError, match=message):
        config.validate()


def test_linear_schedule_is_one_annealing_of_both():
    step, clip = PPOConfig(schedule="linear", optim_stepsize=1e-3, clip_param=0.2).step_size_and_clip()
    assert (step(0.25), clip(0.25)) == (pytest.approx(2.5e-4), pytest.approx(0.05))
    callable_step = LinearAnneal(1e-3)
    assert PPOConfig(optim_stepsize=callable_step).step_size_and_clip() == (callable_step, 0.2)  # used as given


def test_keywords_are_sorted_into_configs_and_misspellings_refused():
    algo, run = split_settings(
        {"clip_param": 0.1, "seed": 3}, (PPOConfig, PPOConfig(optim_epochs=4)), (RunConfig, None)
    )
    assert (algo.clip_param, algo.optim_epochs, run.seed) == (0.1, 4, 3)
    with pytest.raises(
        ConfigError, match="learn\\(\\) got unknown setting\\(s\\) max_timestep; valid: action_masking, adam_epsilon"
    ):
        learn("CartPole-v1", None, max_timestep=5)
