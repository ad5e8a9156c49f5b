"""The control library: library.toml, read once when Django starts and checked, so a broken mapping never starts.

Data, not code, because the mapping is what auditors and compliance people review and change: TOML keeps each
control readable in one block with comments beside it, and Python reads it without a new dependency (tomllib).
What a record proves is data; how it is found is code (queries.py), named from the data and checked here.
"""

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from django.core.exceptions import ImproperlyConfigured
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dashboard.compliance.queries import QUERIES

LIBRARY_PATH = Path(__file__).with_name("library.toml")


class Control(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    feature: str = Field(min_length=1, description="The Regent feature that serves the control.")
    records: str = Field(min_length=1, description="The records that prove it.")
    query: str = Field(description="The name of the query in dashboard.compliance.queries that finds them.")
    coverage: Literal["full", "partial"] = "full"
    deployer_adds: str = Field("", description="For a partial control: what the organisation must add itself.")

    @field_validator("query")
    @classmethod
    def query_exists(cls, name: str) -> str:
        if name not in QUERIES:
            raise ValueError(f"no query named {name!r} in dashboard.compliance.queries (known: {', '.join(QUERIES)})")
        return name

    @model_validator(mode="after")
    def partial_says_what_is_missing(self) -> "Control":
        if self.coverage == "partial" and not self.deployer_adds.strip():
            raise ValueError("a partial control must say what the deployer adds (deployer_adds)")
        if self.coverage == "full" and self.deployer_adds:
            raise ValueError("deployer_adds is for partial controls only")
        return self

    @property
    def partial(self) -> bool:
        return self.coverage == "partial"


class Framework(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    edition: str
    summary: str
    controls: list[Control] = Field(min_length=1)

    @model_validator(mode="after")
    def ids_unique(self) -> "Framework":
        ids = [control.id for control in self.controls]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"control ids repeated: {', '.join(repeated)}")
        return self


class Library(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=1)
    frameworks: list[Framework] = Field(min_length=1)

    @model_validator(mode="after")
    def slugs_unique(self) -> "Library":
        slugs = [framework.slug for framework in self.frameworks]
        if len(set(slugs)) != len(slugs):
            raise ValueError("framework slugs must be unique")
        return self

    def framework(self, slug: str) -> Framework | None:
        return next((framework for framework in self.frameworks if framework.slug == slug), None)


def parse(text: str) -> Library:
    """The library in `text`, checked; ImproperlyConfigured naming what is wrong and where."""
    try:
        return Library.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ImproperlyConfigured(f"{LIBRARY_PATH.name} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ImproperlyConfigured(f"{LIBRARY_PATH.name} does not hold: {problems}") from None


@cache
def library() -> Library:
    return parse(LIBRARY_PATH.read_text(encoding="utf-8"))
