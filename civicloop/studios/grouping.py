"""Opinion groups of a 民生议事堂 round: participants grouped by how they vote.

As Pol.is describes it (implemented here from the description, not from its code): the
participant × statement matrix (agree 1, disagree -1, pass or unseen 0) is projected on
its first two principal components, k-means groups the projections for k = 2..5, and
the k with the best silhouette wins. k-means always "finds" clusters, and in two
dimensions even random votes give silhouettes of 0.3–0.45, so a fixed threshold does
not tell structure from noise. The same procedure is therefore run on `NULL_RUNS`
copies of the matrix with each statement's votes shuffled among the participants (the
same vote counts, no link between statements): groups are claimed only when the real
silhouette beats the best of those by `NULL_MARGIN` and reaches `MIN_SILHOUETTE`.
For each group: the statements it agrees on more than the others do (representative),
and the statements every group agrees on (consensus)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score

from civicloop.studios.errors import StudioError, StudioErrorCode

MIN_PARTICIPANTS = 7
MIN_STATEMENTS = 3
# Share of the matrix that must hold a vote (agree or disagree) to be worth grouping.
MIN_DENSITY = 0.2
# Silhouette under which groups are not distinct (Kaufman & Rousseeuw: < 0.25 "no
# substantial structure").
MIN_SILHOUETTE = 0.25
NULL_RUNS = 3
NULL_MARGIN = 0.1
MAX_K = 5
CONSENSUS_AGREE = 0.6
SEED = 0


@dataclass(frozen=True)
class Grouping:
    labels: np.ndarray  # one group per participant row (-1: no groups claimed)
    k: int  # 0 when no distinct groups
    silhouette: float
    null_silhouette: float  # the best silhouette of the shuffled copies
    coords: np.ndarray  # 2-D projection, for the chart
    representative: dict[int, list[int]]  # group -> statement columns
    consensus: list[int]

    @property
    def distinct(self) -> bool:
        return self.k >= 2


def _agree_rates(votes: np.ndarray) -> np.ndarray:
    seen = (votes != 0).sum(axis=0)
    agree = (votes > 0).sum(axis=0)
    return (agree + 1) / (seen + 2)  # Laplace smoothing: one unseen vote is not 100 %


def groups_find(votes: np.ndarray, *, max_k: int = MAX_K) -> Grouping:
    """Group the rows of `votes` (participants × statements, values in {-1, 0, 1}).
    Raises StudioError(SPARSE) when the matrix is too small or too sparse to group."""
    votes = np.asarray(votes, dtype=np.float32)
    n, m = votes.shape
    density = float((votes != 0).mean()) if votes.size else 0.0
    if n < MIN_PARTICIPANTS or m < MIN_STATEMENTS or density < MIN_DENSITY:
        raise StudioError(StudioErrorCode.SPARSE)
    coords, best_k, best_score, best_labels = _best_split(votes, max_k)
    rng = np.random.default_rng(SEED)
    null = max(_best_split(rng.permuted(votes, axis=0), max_k)[2] for _run in range(NULL_RUNS))
    consensus = [int(j) for j in np.nonzero(_agree_rates(votes) >= CONSENSUS_AGREE)[0]]
    if best_score < max(MIN_SILHOUETTE, null + NULL_MARGIN):
        return Grouping(np.full(n, -1), 0, best_score, null, coords, {}, consensus)
    representative: dict[int, list[int]] = {}
    rates = [_agree_rates(votes[best_labels == g]) for g in range(best_k)]
    for g in range(best_k):
        others = votes[best_labels != g]
        diff = rates[g] - _agree_rates(others)
        order = np.argsort(-diff)
        representative[g] = [int(j) for j in order[:3] if diff[j] > 0.2]
    consensus = [j for j in range(m) if all(rate[j] >= CONSENSUS_AGREE for rate in rates)]
    return Grouping(best_labels, best_k, best_score, null, coords, representative, consensus)


def _best_split(votes: np.ndarray, max_k: int) -> tuple[np.ndarray, int, float, np.ndarray]:
    """The 2-D projection and the k-means split of it with the best silhouette:
    (coords, k, silhouette, labels)."""
    n = votes.shape[0]
    coords = PCA(n_components=2, random_state=SEED).fit_transform(votes)
    best_k, best_score, best_labels = 0, -1.0, np.full(n, -1)
    for k in range(2, min(max_k, n - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit_predict(coords)
        if len(set(labels)) < 2:
            continue
        sample = min(n, 2000)
        score = float(silhouette_score(coords, labels, sample_size=sample, random_state=SEED))
        if score > best_score:
            best_k, best_score, best_labels = k, score, labels
    return coords, best_k, best_score, best_labels
