"""A front-end bundle as `make console` leaves it, in miniature, for the tests that serve
one without building it."""

from __future__ import annotations

from pathlib import Path


def write_bundle(directory: Path, page: str, title: str, script: str) -> None:
    """The page `page` titled `title` and the script `assets/<script>` in `directory`, beside
    `secret.txt`: a file that is no asset, which the app must not serve."""
    (directory / "assets").mkdir()
    (directory / page).write_text(f"<!doctype html><title>{title}</title>", "utf-8")
    (directory / "assets" / script).write_text("console.log(1)", "utf-8")
    (directory / "secret.txt").write_text("not an asset", "utf-8")
