"""民生议事堂 opinion groups: two planted groups are found; random votes are not
claimed to have groups; a matrix too small or sparse says so."""

from __future__ import annotations

import numpy as np
import pytest

from civicloop.studios.errors import StudioError, StudioErrorCode
from civicloop.studios.grouping import groups_find


def planted(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two camps that vote opposite ways on every statement but the last three, on which
    everyone agrees; 20 % of votes are left out."""
    rng = np.random.default_rng(seed)
    camp = rng.integers(0, 2, n)
    pref = np.where(rng.random(m) < 0.5, 1, -1)
    votes = np.where(camp[:, None] == 0, pref, -pref)
    votes[:, -3:] = 1
    votes = np.where(rng.random((n, m)) < 0.1, -votes, votes)  # a few change sides
    votes = np.where(rng.random((n, m)) < 0.2, 0, votes)
    return votes, camp, pref


@pytest.mark.parametrize(("n", "m", "seed"), [(30, 15, 1), (200, 40, 2), (500, 100, 3)])
def test_two_planted_groups_are_found(n: int, m: int, seed: int) -> None:
    votes, camp, pref = planted(n, m, seed)
    result = groups_find(votes)
    assert result.distinct and result.k == 2
    same = (result.labels == camp).mean()
    assert max(same, 1 - same) >= 0.95
    # Each group's representative statements are ones its camp agrees with.
    for g, columns in result.representative.items():
        members = camp[result.labels == g]
        majority = int(np.bincount(members).argmax())
        wanted = 1 if majority == 0 else -1
        assert columns and all(pref[j] == wanted for j in columns if j < m - 3)
    # The statements everyone agrees on are the consensus.
    assert set(range(m - 3, m)) <= set(result.consensus)


@pytest.mark.parametrize("seed", range(5))
def test_random_votes_claim_no_groups(seed: int) -> None:
    rng = np.random.default_rng(seed)
    votes = rng.choice([-1, 0, 1], size=(150, 30), p=[0.35, 0.3, 0.35])
    result = groups_find(votes)
    assert not result.distinct and result.k == 0
    assert (result.labels == -1).all()
    # k-means did split it, but no better than shuffled votes.
    assert result.silhouette < result.null_silhouette + 0.1


@pytest.mark.parametrize(
    "votes",
    [
        np.ones((5, 10)),  # too few participants
        np.ones((30, 2)),  # too few statements
        np.where(np.random.default_rng(0).random((40, 20)) < 0.05, 1, 0),  # too sparse
    ],
)
def test_too_small_or_sparse_says_so(votes: np.ndarray) -> None:
    with pytest.raises(StudioError) as exc:
        groups_find(votes)
    assert exc.value.code == StudioErrorCode.SPARSE
