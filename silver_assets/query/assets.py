"""``standing_answers``: the query resource used from inside Dagster.

After every successful dataset run, the answers to a configured set of standing questions
(``config/standing_questions.json``) are frozen into one JSON file beside the snapshots, so a
report can cite exactly what the agents were told that day.
"""

import json
from pathlib import Path

import dagster as dg

from silver_assets import storage
from silver_assets.query.resource import SilverQueryResource
from silver_assets.registry import FAMILY_NAMES
from silver_assets.resources import SilverLakeResource

QUESTIONS_FILE = "standing_questions.json"


def load_questions(config_dir: Path) -> list[dict]:
    path = Path(config_dir) / QUESTIONS_FILE
    try:
        questions = json.loads(path.read_text(encoding="utf-8"))["questions"]
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"standing questions {path} are unusable: {exc}") from exc
    names = [q.get("name") for q in questions]
    if not all(names) or len(set(names)) != len(names):
        raise ValueError(f"standing questions {path} need unique names, got {names}")
    return questions


@dg.asset(
    deps=list(FAMILY_NAMES),
    group_name="agent_answers",
    description="Answers to the standing questions, frozen after each successful daily run.",
)
def standing_answers(
    silver: SilverLakeResource, silver_query: SilverQueryResource
) -> dg.MaterializeResult:
    questions = load_questions(silver.settings.config_dir)
    answers = {q["name"]: silver_query.query(q["request"]) for q in questions}
    text = json.dumps(answers, indent=2, default=str)
    target = storage.write_whole(
        silver.store.root / "standing_answers" / "latest.json",
        lambda handle: handle.write(text.encode("utf-8")),
    )
    rows = [
        f"| {name} | {len(a['values'])} | {len(a['lineage_anchors'])} | "
        f"{len(a['status']['missing'])} |"
        for name, a in answers.items()
    ]
    table = "| question | values | anchors | missing |\n|---|---|---|---|\n" + "\n".join(rows)
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(target)), "answers": dg.MetadataValue.md(table)}
    )


standing_answers_job = dg.define_asset_job(
    "standing_answers_job", selection=dg.AssetSelection.assets(standing_answers)
)
