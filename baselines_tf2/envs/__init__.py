"""Environments: building them (``make``), Atari preprocessing (``atari_wrappers``, ``ale_vector``), the
Baselines monitor (``monitor``) and video recording (``video``)."""
