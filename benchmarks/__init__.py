"""Speed benchmarks: each ``bench_*.py`` module has ``run(quick: bool) -> list[dict]``; see ``__main__``."""
