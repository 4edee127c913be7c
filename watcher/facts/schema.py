"""The base of the facts package's file schemas (topics, corpus labels, eval labels)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictSchema(BaseModel):
    """A TOML file's shape: a key it does not know is an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")
