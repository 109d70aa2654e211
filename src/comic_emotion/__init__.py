"""comic-emotion-bench: emotion understanding in comics, manga and fine art, scored through lmms-eval.

Importing the package is cheap (no torch, no lmms-eval); heavy parts load on first use.
Layout: the core (schema, taxonomy, storage, data resolution, demo set, CLI) lives here; the
subpackages ``tasks``, ``metrics``, ``perturbations``, ``baselines`` and ``leaderboard`` live in
top-level folders of the repository and are mapped under ``comic_emotion`` by ``pyproject.toml``.
"""

__version__ = "0.1.0"
