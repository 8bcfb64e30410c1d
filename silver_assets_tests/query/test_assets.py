"""The query resource inside Dagster: the standing_answers asset."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from silver_assets.query.assets import load_questions, standing_answers
from silver_assets.query.resource import SilverQueryResource
from silver_assets.resources import SilverLakeResource


def test_standing_answers_are_frozen_from_snapshots(materialized):
    settings = materialized.settings
    resources = {
        "silver": SilverLakeResource.from_settings(settings),
        "silver_query": SilverQueryResource(
            snapshot_root=str(settings.snapshot_root),
            state_path=str(settings.state_path),
            audit_root=str(settings.audit_root),
        ),
    }
    result = dg.materialize([standing_answers], resources=resources)
    assert result.success
    frozen = json.loads((settings.snapshot_root / "standing_answers" / "latest.json").read_text())
    assert set(frozen) == {"index_options_week", "macro_and_geopolitics"}
    week = frozen["index_options_week"]
    assert week["values"]["SPY_pcr_volume"] > 0
    assert week["status"]["error"] is None
    assert frozen["macro_and_geopolitics"]["values"]["gpr_percentile"] == "97.58%"
    (event,) = result.get_asset_materialization_events()
    assert "index_options_week" in event.materialization.metadata["answers"].value


def test_unusable_questions_file_names_the_problem(tmp_path, materialized):
    (tmp_path / "standing_questions.json").write_text('{"questions": [{"request": {}}]}')
    with pytest.raises(ValueError, match="unique names"):
        load_questions(tmp_path)
    settings = materialized.settings.replace(config_dir=tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"standing_questions\.json"):
        load_questions(settings.config_dir)
