"""`CREDITLINK_JURISDICTION` and `CREDITLINK_CATALOGUE_DIR`: which catalogue an instance
runs with, refused naming the variable when it is not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import Settings, SettingsError
from rules import CATALOGUES_DIR


def test_the_default_is_wenzhou_with_its_catalogue() -> None:
    settings = Settings.from_env({})
    assert settings.jurisdiction == "wenzhou"
    assert settings.catalogue_dir == CATALOGUES_DIR / "wenzhou"


def test_the_jurisdiction_picks_its_catalogue() -> None:
    settings = Settings.from_env({"CREDITLINK_JURISDICTION": "jiaxing"})
    assert settings.catalogue_dir == CATALOGUES_DIR / "jiaxing"
    assert (settings.catalogue_dir / "jurisdictions.yaml").is_file()


def test_a_catalogue_dir_overrides_the_jurisdictions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shanghai").mkdir()
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env(
        {"CREDITLINK_JURISDICTION": "shanghai", "CREDITLINK_CATALOGUE_DIR": "shanghai"}
    )
    assert settings.catalogue_dir == tmp_path.resolve() / "shanghai"  # resolved when read


def test_a_jurisdiction_without_a_catalogue_is_refused_naming_the_variable() -> None:
    settings = Settings.from_env({"CREDITLINK_JURISDICTION": "shanghai"})
    with pytest.raises(SettingsError) as caught:
        settings.catalogue_dir  # noqa: B018 -- the property is the check
    message = str(caught.value)
    assert message.startswith("CREDITLINK_JURISDICTION=shanghai: no catalogue for it at ")
    assert "rules/catalogues/shanghai" in message and "CREDITLINK_CATALOGUE_DIR" in message


def test_a_catalogue_dir_that_is_not_there_is_refused_naming_the_variable(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nowhere"
    settings = Settings.from_env({"CREDITLINK_CATALOGUE_DIR": str(missing)})
    with pytest.raises(SettingsError) as caught:
        settings.catalogue_dir  # noqa: B018 -- the property is the check
    assert str(caught.value) == f"CREDITLINK_CATALOGUE_DIR={missing}: no such directory"
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    settings = Settings.from_env({"CREDITLINK_CATALOGUE_DIR": str(tmp_path / "a-file")})
    with pytest.raises(SettingsError, match=r"^CREDITLINK_CATALOGUE_DIR=.*: no such directory$"):
        settings.catalogue_dir  # noqa: B018


@pytest.mark.parametrize("bad", ["Jiaxing", "../wenzhou", "j", "jia xing", "1city"])
def test_a_jurisdiction_that_is_no_id_fails_fast_naming_the_variable(bad: str) -> None:
    with pytest.raises(SettingsError, match=r"^CREDITLINK_JURISDICTION="):
        Settings.from_env({"CREDITLINK_JURISDICTION": bad})
