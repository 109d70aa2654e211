"""Fixtures for tests and benchmarks: tiny randomly initialised models built offline from configs.

Import :mod:`comic_emotion.testing.tiny_vlm` on use; it pulls in torch and transformers.
"""
