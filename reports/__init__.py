"""Reports built from finished runs: robustness (per perturbation and severity), the cross-style
matrix, and the stage-delta table of a fine-tuning sweep.

Every report reads runs through :mod:`comic_emotion.results` and writes plain files (JSON, markdown,
PNG); none of them runs a model.
"""
