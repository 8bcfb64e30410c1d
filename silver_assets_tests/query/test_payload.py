"""The tools' lean JSON Schemas: same constraints as the pydantic models, no refs to follow."""

from __future__ import annotations

import json

import jsonschema
import pydantic
import pytest

from silver_assets.query.claims import VerifyResult
from silver_assets.query.data_status import DataStatus
from silver_assets.query.payload import CitationEntry, QueryPayload, RequestEcho

SCHEMA = QueryPayload.model_json_schema()
PAYLOAD = QueryPayload(
    request=RequestEcho(tickers=["SPY"], metrics=["PCR"], time_window="past_week"),
    values={"pcr_volume": 0.82, "pcr_label": "bearish", "missing": None},
    citation_contract={
        "pcr_volume": CitationEntry(
            preferred_anchor="A1",
            audit_lineage_anchors=["A1"],
            legacy_aliases=[],
            observed_at=None,
            source_channel="snapshot",
            family="options_sentiment",
        )
    },
).model_dump(mode="json")


def test_schema_is_inlined_with_type_arrays() -> None:
    text = json.dumps(SCHEMA)
    assert "$ref" not in text
    assert "$defs" not in text
    assert "anyOf" not in text
    assert SCHEMA["properties"]["values"]["additionalProperties"] == {
        "type": ["integer", "number", "string", "null"]
    }
    # Draft-07, which jsonschema (the MCP SDK client's validator) checks four times faster.
    assert jsonschema.validators.validator_for(SCHEMA) is jsonschema.Draft7Validator
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_schema_accepts_a_payload() -> None:
    jsonschema.validate(PAYLOAD, SCHEMA)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda p: p["values"].update(pcr_volume=[0.82]),
        lambda p: p["citation_contract"]["pcr_volume"].pop("preferred_anchor"),
        lambda p: p["citation_contract"]["pcr_volume"].update(observed_at=20240102),
        lambda p: p["status"]["freshness"].update(options={"dataset": "options"}),
        lambda p: p.pop("request"),
    ],
)
def test_schema_rejects_what_the_model_rejects(spoil) -> None:
    payload = json.loads(json.dumps(PAYLOAD))
    spoil(payload)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, SCHEMA)
    with pytest.raises(pydantic.ValidationError):
        QueryPayload.model_validate(payload)


@pytest.mark.parametrize("model", [VerifyResult, DataStatus])
def test_every_tool_output_schema_is_lean_draft_07(model) -> None:
    schema = model.model_json_schema()
    assert "$ref" not in json.dumps(schema)
    assert jsonschema.validators.validator_for(schema) is jsonschema.Draft7Validator
