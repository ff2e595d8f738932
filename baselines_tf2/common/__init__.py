"""Maths and models shared by every algorithm: distributions, policies and their actors, layers,
normalisers, advantages. (Modules that used to live here are importable by their old names too.)"""
