"""Hyperparameter presets: the paper's (``--alg ppo``) and Baselines' PPO1/PPO2 defaults.

Each preset is a :class:`Preset`: the algorithm's config (:class:`~baselines_tf2.config.PPOConfig`
or :class:`~baselines_tf2.config.PGConfig`), the network (:class:`~baselines_tf2.config.PolicyConfig`)
and the env copies per rank. ``presets(alg, env_type)`` returns fresh copies; ``preset()`` the same
flattened into one dict, as earlier versions returned it. Continuous-control and classic-control tasks share the "mlp" family (the paper's
Table 3); Atari games the "atari" family (Table 5). Values: the papers (``reproduce/reference/`` holds their published numbers).

=================  ======================================  =========================================
preset             MuJoCo / classic control (mlp)          Atari
=================  ======================================  =========================================
ppo (paper)        T=2048, Adam 3e-4, 10 epochs, mb 64,    8 actors, T=128, 3 epochs, mb 256,
                   gamma .99, lambda .95, eps .2, c2=0     Adam 2.5e-4*alpha, eps 0.1*alpha, c2=.01,
                                                           alpha linear 1 -> 0 over 40M frames;
                                                           from the code released with the paper:
                                                           c1=1 on a halved, clipped value loss,
                                                           max_grad_norm .5, orthogonal init
ppo1 (Baselines)   as paper + linear schedule, Adam eps    T=256, eps .2, c2=.01, 4 epochs, 1e-3,
                   1e-5                                    mb 64, linear schedule
ppo2 (Baselines)   as paper + lr 3e-4*f, c1 .25,           8 envs, T=128, 4 epochs, mb 256,
                   max_grad_norm .5, clipped value loss,   lr 2.5e-4*f, eps 0.1*f, c1 .25,
                   reward scaling, orthogonal init         max_grad_norm .5, clipped value loss,
                                                           orthogonal init (nature_cnn)
pg (seed 001)      whole episodes, >= 5000 steps per single Adam step (1e-2), weights reward-to-go
                   (gamma 1), a 32-unit tanh layer (vanilla policy gradient, ``--alg pg``)
=================  ======================================  =========================================

Baselines ppo2 weighs its value loss ``vf_coef * 0.5 * mean(max(...))`` with ``vf_coef = 0.5``;
our ``vf_coef`` multiplies the plain mean squared error (PPO1's and the paper's L^VF), so ppo2's
weighting is ``vf_coef=0.25`` here, and the paper's Atari runs' (c1 = 1 on the halved squared error of the
code released with it) ``vf_coef=0.5``. Why the ``ppo`` Atari preset takes these details from that code
rather than PPO1's: ``docs/results/README.md`` (the Atari ablation) and the README's Presets section. ppo2 as first released (Nov 2017) anneals the Atari clip range
with the step size (``cliprange=lambda f: f * 0.1``); its later defaults keep it at 0.1.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from baselines_tf2.config import PGConfig, PolicyConfig, PPOConfig
from baselines_tf2.errors import ConfigError
from baselines_tf2.schedules import LinearAnneal

__all__ = ["ALGS", "Preset", "preset", "presets"]

ALGS = ("ppo", "ppo1", "ppo2", "pg")


@dataclass(frozen=True)
class Preset:
    """The settings ``--alg`` gives for one family of env types."""

    algo: PPOConfig | PGConfig
    policy: PolicyConfig
    num_env: int
    # The annealing horizon in agent steps (RunConfig.schedule_timesteps) when a run is no longer than it;
    # 0: the run's own length. The paper's Atari alpha falls over 40M frames whatever the run's length.
    schedule_timesteps: int = 0


_MLP_PAPER = PPOConfig(
    timesteps_per_actorbatch=2048,
    optim_stepsize=3e-4,
    optim_epochs=10,
    optim_batchsize=64,
    gamma=0.99,
    lam=0.95,
    clip_param=0.2,
    entcoeff=0.0,
    vf_coef=1.0,
    schedule="constant",
    adam_epsilon=1e-5,
)
_ATARI_PAPER = PPOConfig(
    timesteps_per_actorbatch=128,
    optim_stepsize=2.5e-4,
    optim_epochs=3,
    optim_batchsize=256,
    gamma=0.99,
    lam=0.95,
    clip_param=0.1,
    entcoeff=0.01,
    vf_coef=1.0,
    schedule="linear",
    adam_epsilon=1e-5,
)
_PPO1_ATARI = PPOConfig(
    timesteps_per_actorbatch=256,
    optim_stepsize=1e-3,
    optim_epochs=4,
    optim_batchsize=64,
    gamma=0.99,
    lam=0.95,
    clip_param=0.2,
    entcoeff=0.01,
    vf_coef=1.0,
    schedule="linear",
    adam_epsilon=1e-5,
)
_PPO2_MLP = dataclasses.replace(
    _MLP_PAPER, optim_stepsize=LinearAnneal(3e-4), vf_coef=0.25, max_grad_norm=0.5, vf_clip=True, normalize_rewards=True
)
_PPO2_ATARI = PPOConfig(
    timesteps_per_actorbatch=128,
    optim_stepsize=LinearAnneal(2.5e-4),
    optim_epochs=4,
    optim_batchsize=256,
    gamma=0.99,
    lam=0.95,
    clip_param=LinearAnneal(0.1),
    entcoeff=0.01,
    vf_coef=0.25,
    schedule="constant",
    adam_epsilon=1e-5,
    vf_clip=True,
    max_grad_norm=0.5,
)
_MLP, _CNN = PolicyConfig(network="mlp"), PolicyConfig(network="cnn")
_ORTHO_MLP, _ORTHO_CNN = PolicyConfig(network="mlp", init="orthogonal"), PolicyConfig(network="cnn", init="orthogonal")
_PG = PGConfig(
    batch_size=5000, pg_weight="reward_to_go", optim_stepsize=1e-2, gamma=1.0, lam=0.95, vf_coef=1.0, adam_epsilon=1e-8
)
_PG_MLP = PolicyConfig(network="mlp", hid_size=32, num_hid_layers=1)

_PRESETS: dict[tuple[str, str], Preset] = {
    ("ppo", "mlp"): Preset(_MLP_PAPER, _MLP, 1),
    ("ppo", "atari"): Preset(
        dataclasses.replace(_ATARI_PAPER, vf_coef=0.5, vf_clip=True, max_grad_norm=0.5), _ORTHO_CNN, 8, 10_000_000
    ),
    ("ppo1", "mlp"): Preset(dataclasses.replace(_MLP_PAPER, schedule="linear"), _MLP, 1),
    ("ppo1", "atari"): Preset(_PPO1_ATARI, _CNN, 1),
    ("ppo2", "mlp"): Preset(_PPO2_MLP, _ORTHO_MLP, 1),
    ("ppo2", "atari"): Preset(_PPO2_ATARI, _ORTHO_CNN, 8),
    ("pg", "mlp"): Preset(_PG, _PG_MLP, 1),
    ("pg", "atari"): Preset(_PG, dataclasses.replace(_PG_MLP, network="cnn"), 8),
}


def presets(alg: str, env_type: str) -> Preset:
    """The settings of ``alg`` for an env of ``env_type`` (fresh copies, safe to change)."""
    if alg not in ALGS:
        raise ConfigError(f"unknown --alg {alg!r}; choose from {', '.join(ALGS)}")
    chosen = _PRESETS[(alg, "atari" if env_type == "atari" else "mlp")]
    return dataclasses.replace(chosen, algo=dataclasses.replace(chosen.algo), policy=dataclasses.replace(chosen.policy))


def preset(alg: str, env_type: str) -> dict[str, Any]:
    """:func:`presets` flattened: the algorithm's settings, ``num_env`` and the policy's settings in one dict."""
    chosen = presets(alg, env_type)
    return {
        **dataclasses.asdict(chosen.algo),
        "num_env": chosen.num_env,
        "schedule_timesteps": chosen.schedule_timesteps,
        **dataclasses.asdict(chosen.policy),
    }
