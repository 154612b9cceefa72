"""Integer codes for the vocabularies of `engine.vocab`, so that millions of members fit in small numpy arrays, and
label tables to turn the codes back into the Chinese words written in the files."""

from __future__ import annotations

import numpy as np

from engine import vocab


def _index(table: dict[str, str]) -> dict[str, int]:
    return {code: i for i, code in enumerate(table)}


def labels(table: dict[str, str]) -> np.ndarray:
    """Chinese labels in code order, as an object array (fancy-indexing it yields ready-made Python strings)."""
    return np.array(list(table.values()), dtype=object)


REL = _index(vocab.RELATIONS)
EDU = _index(vocab.EDUCATION)
STU = _index(vocab.STUDENT_STATUSES)
HEALTH = _index(vocab.HEALTH)
LAB = _index(vocab.LABOUR_CAPACITIES)
MIG = _index(vocab.MIGRANT_WORK)

REL_LABELS = labels(vocab.RELATIONS)
EDU_LABELS = labels(vocab.EDUCATION)
STU_LABELS = labels(vocab.STUDENT_STATUSES)
HEALTH_LABELS = labels(vocab.HEALTH)
LAB_LABELS = labels(vocab.LABOUR_CAPACITIES)
MIG_LABELS = labels(vocab.MIGRANT_WORK)
YES_NO = np.array(["否", "是"], dtype=object)
SEX = np.array(["女", "男"], dtype=object)
