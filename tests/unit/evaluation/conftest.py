"""The packaged evaluation data and catalogue, as every evaluation unit test reads them."""

from __future__ import annotations

import pytest

from rules import Catalogue, default_catalogue
from rules.evaluation import EvaluationConfig, default_evaluation


@pytest.fixture(scope="module")
def config() -> EvaluationConfig:
    return default_evaluation()


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return default_catalogue()
