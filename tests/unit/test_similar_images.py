"""PDQ distances over a manifest column equal Python's popcount of the XOR, nulls are left
out, and malformed references or distances are clear errors."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from cluster.query import QueryError
from cluster.similar_images import parse_distance, parse_pdq, pdq_distances


def test_distances_equal_the_popcount_of_the_xor_and_nulls_are_infinite() -> None:
    rng = random.Random(11)
    reference = f"{rng.getrandbits(256):064x}"
    values: list[str | None] = []
    for i in range(3000):
        if i % 7 == 3:
            values.append(None)
        else:  # near the reference and far from it, a few bits flipped or many
            flips = rng.sample(range(256), rng.choice((0, 1, 5, 31, 32, 128, 256)))
            values.append(f"{int(reference, 16) ^ sum(1 << b for b in flips):064x}")
    got = pdq_distances(pa.chunked_array([values[:1000], values[1000:]], pa.string()), reference)
    for value, distance in zip(values, got, strict=True):
        if value is None:
            assert distance == np.inf
        else:
            assert distance == bin(int(value, 16) ^ int(reference, 16)).count("1")
    assert np.all(np.isinf(pdq_distances(pa.array([None, None], pa.string()), reference)))
    assert len(pdq_distances(pa.array([], pa.string()), reference)) == 0


@pytest.mark.parametrize("text", ["", "12", "g" * 64, "0" * 63, "0" * 65])
def test_a_malformed_pdq_is_named(text: str) -> None:
    with pytest.raises(QueryError, match="64 hex digits"):
        parse_pdq(text)


def test_distance_bounds() -> None:
    assert parse_distance("0") == 0 and parse_distance("256") == 256
    for text in ("-1", "257", "x"):
        with pytest.raises(QueryError, match="distance"):
            parse_distance(text)
    assert parse_pdq(" " + "AB" * 32 + " ") == "ab" * 32
