"""Fuzzing the config parser (issue 7, item 4): whatever the file holds, only ConfigError escapes.

Two kinds of input: random text handed to `config.load` (TOML syntax errors become ConfigError
too), and the real configs (tests/hall.toml and config.toml) with random parts replaced,
removed or added: wrong types, huge and negative numbers, NaN, dates where strings belong,
tables where lists belong, unknown keys. `parse` must answer a Config or a ConfigError naming
the problem; never a TypeError, KeyError, OverflowError or the like.
"""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hall import config as config_mod
from hall.config import ConfigError

from .conftest import ROOT, TEST_CONFIG

BASES = [
    tomllib.loads(TEST_CONFIG.read_text(encoding="utf-8")),
    tomllib.loads((ROOT / "config.toml").read_text("utf-8")),
]

scalars = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        ["", "A", "08:30-12:00", "25:00-26:00", "12:00-08:00", "workdays", "*", "Asia/Shanghai", "x" * 500]
    ),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, -1, 1, 2**31, 2**62]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(math.nan),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
toml_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=8,
)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in the document: table keys and list indexes, depth first."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += paths(value, (*prefix, i))
    return found


def mutate(doc: dict, where: tuple, op: str, value: Any, key: str) -> None:
    parent = doc
    for step in where[:-1]:
        parent = parent[step]
    last = where[-1]
    if op == "replace":
        parent[last] = value
    elif op == "delete":
        del parent[last]
    elif op == "add" and isinstance(parent[last], dict):
        parent[last][key] = value
    elif op == "add" and isinstance(parent[last], list):
        parent[last].append(value)
    else:
        parent[last] = value


mutations = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=10**6),
        st.sampled_from(["replace", "replace", "delete", "add"]),
        toml_values,
        st.text(max_size=12) | st.sampled_from(["id", "name", "hours", "sections", "windows", "retention_days"]),
    ),
    min_size=1,
    max_size=4,
)


def check(doc: Any) -> None:
    try:
        parsed = config_mod.parse(doc)
    except ConfigError as e:
        assert str(e)  # names the problem
    else:
        assert isinstance(parsed, config_mod.Config)


@settings(max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(BASES))), mutations)
def test_a_mutated_config_is_a_config_or_a_config_error(base, changes):
    doc = copy.deepcopy(BASES[base])
    for index, op, value, key in changes:
        places = paths(doc)
        if not places:
            break
        mutate(doc, places[index % len(places)], op, value, key)
    check(doc)


@settings(max_examples=300, deadline=None, database=None)
@given(st.dictionaries(st.text(max_size=12) | st.sampled_from(list(BASES[0])), toml_values, max_size=6))
def test_a_random_document_is_a_config_or_a_config_error(doc):
    check(doc)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(max_size=300)
    | st.lists(
        st.sampled_from(["[hall]", "name = ", '"x"', "[[sections]]", "id = 1", "\n", "=", "[", "'''"]), max_size=20
    ).map("".join)
)
def test_random_text_is_loaded_or_refused_with_a_config_error(tmp_path: Path, text):
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    try:
        config_mod.load(path)
    except ConfigError as e:
        assert str(e)


def test_the_bases_parse():
    for doc in BASES:
        assert isinstance(config_mod.parse(copy.deepcopy(doc)), config_mod.Config)
