"""The evaluation data loads, fits the catalogue, and broken files are reported by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.scoring.ratings import Grade
from rules import CatalogueInvalid, Code, load_catalogue
from rules.evaluation import (
    EVALUATION_DIR,
    EvaluationConfig,
    cross_check,
    load_evaluation,
)


def test_packaged_data_fits_the_catalogue(config: EvaluationConfig) -> None:
    assert cross_check(config, load_catalogue()) == []


@pytest.mark.parametrize(
    ("score", "band", "label"),
    [
        (0, "NEEDS_IMPROVEMENT", "待提升"),
        (550, "NEEDS_IMPROVEMENT", "待提升"),
        (551, "FAIR", "一般"),
        (599, "FAIR", "一般"),
        (600, "GOOD", "良好"),
        (699, "GOOD", "良好"),
        (700, "EXCELLENT", "优秀"),
        (749, "EXCELLENT", "优秀"),
        (750, "OUTSTANDING", "极好"),
        (1000, "OUTSTANDING", "极好"),
    ],
)
def test_bands_follow_the_design(
    config: EvaluationConfig, score: int, band: str, label: str
) -> None:
    found = config.integrity.band_of(score)
    assert (found.code, found.label) == (band, label)


def test_benefit_thresholds_and_partners(config: EvaluationConfig) -> None:
    thresholds = {b.id: b.min_score for b in config.integrity.benefits}
    assert thresholds["LIBRARY_DEPOSIT_FREE"] == 650
    assert thresholds["PARKING_LEAVE_FIRST_PAY_LATER"] == 650
    assert thresholds["SCENIC_SPOTS_HALF_PRICE"] == 700
    assert thresholds["SCENIC_SPOTS_FREE"] == 750
    assert thresholds["BANK_GREEN_CHANNEL"] == 600
    assert len(thresholds) > 5
    assert {p.jurisdiction for p in config.integrity.partner_recognition} == {
        "jiaxing",
        "jinhua",
        "huzhou",
    }
    assert (
        sum(d.max for d in config.integrity.dimensions.values())
        == config.integrity.max_score
        == 1000
    )


def test_grades_and_supervision_weights(config: EvaluationConfig) -> None:
    rating = config.rating
    assert [rating.grade_of(s) for s in (110, 90, 89.9, 75, 74, 60, 59, 0)] == [
        Grade.A, Grade.A, Grade.B, Grade.B, Grade.C, Grade.C, Grade.D, Grade.D,
    ]  # fmt: skip
    weights = config.supervision.grade_weights
    assert weights == {Grade.A: 0.5, Grade.B: 1.0, Grade.C: 2.0, Grade.D: 4.0}
    assert config.supervision.max_count == 500


def _copy(tmp_path: Path, edit: tuple[str, str, str] | None = None) -> Path:
    for source in EVALUATION_DIR.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        if edit is not None and source.name == edit[0]:
            assert edit[1] in text
            text = text.replace(edit[1], edit[2])
        (tmp_path / source.name).write_text(text, encoding="utf-8")
    return tmp_path


def _line(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def test_a_bad_value_is_reported_with_file_and_line(tmp_path: Path) -> None:
    directory = _copy(tmp_path, ("supervision.yaml", "max_count: 500", "max_count: -1"))
    with pytest.raises(CatalogueInvalid) as caught:
        load_evaluation(directory)
    [issue] = caught.value.issues
    assert issue.file.endswith("supervision.yaml") and issue.code is Code.BAD_VALUE
    assert issue.line == _line(directory / "supervision.yaml", "max_count")
    assert "supervision.max_count" in issue.message


def test_unknown_fields_sections_and_rules_between_values(tmp_path: Path) -> None:
    directory = _copy(
        tmp_path, ("integrity.yaml", "    base: 90\n", "    base: 90\n    bonus: 3\n")
    )
    with pytest.raises(CatalogueInvalid) as caught:
        load_evaluation(directory)
    assert [i.code for i in caught.value.issues] == [Code.UNKNOWN_FIELD]
    assert caught.value.issues[0].line == _line(directory / "integrity.yaml", "bonus")

    (tmp_path / "extra.yaml").write_text("ratings: {}\n", encoding="utf-8")
    with pytest.raises(CatalogueInvalid) as caught:
        load_evaluation(tmp_path)
    assert Code.UNKNOWN_SECTION in {i.code for i in caught.value.issues}

    other = tmp_path / "dims"
    other.mkdir()
    directory = _copy(
        other, ("integrity.yaml", "    max: 150\n    base: 90", "    max: 160\n    base: 90")
    )
    with pytest.raises(CatalogueInvalid, match="max add up to 1010"):
        load_evaluation(directory)


def test_cross_check_names_what_the_catalogue_lacks(config: EvaluationConfig) -> None:
    data = config.model_dump(mode="json")
    data["rating"]["black_list"]["by_list_type"]["NO_SUCH_LIST"] = 5
    data["rating"]["red_list"]["by_list_type"]["DISHONEST_JUDGMENT_DEBTOR"] = 5
    data["integrity"]["partner_recognition"].append({"jurisdiction": "wenzhou", "bands": ["GOOD"]})
    problems = cross_check(EvaluationConfig.model_validate(data), load_catalogue())
    assert len(problems) == 3
    assert any("NO_SUCH_LIST" in p for p in problems)
    assert any("DISHONEST_JUDGMENT_DEBTOR is a BLACK list" in p for p in problems)
    assert any("wenzhou" in p for p in problems)
