"""Plate-constrained CTC decoding of the recogniser's output.

The PP-OCR recogniser knows 6,600 characters; a plate uses 65 of them, in fixed roles
by position. Greedy decoding lets a '4' win over an 'A' in the letter position or a
stray '·' split a plate; here the most probable CTC path is searched (Viterbi) among
the paths whose text fits a plate template, so every position can only take a
character its role allows. Probability of characters no plate uses counts as blank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from civicloop.firelane.plates.normalize import (
    DIGITS,
    LETTERS,
    NEW_ENERGY_MARKS,
    PROVINCES,
    SERIAL,
)

ALPHABET = PROVINCES + LETTERS + DIGITS
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_NEG = -1e9

ORDINARY = (PROVINCES, LETTERS, SERIAL, SERIAL, SERIAL, SERIAL, SERIAL)
NEW_ENERGY_SMALL = (PROVINCES, LETTERS, NEW_ENERGY_MARKS, SERIAL, DIGITS, DIGITS, DIGITS, DIGITS)
NEW_ENERGY_LARGE = (PROVINCES, LETTERS, DIGITS, DIGITS, DIGITS, DIGITS, DIGITS, NEW_ENERGY_MARKS)
TOP_ROW = (PROVINCES, LETTERS)
BOTTOM_ROW = (SERIAL,) * 5


@dataclass(frozen=True)
class Decoded:
    text: str
    char_probs: tuple[float, ...]
    path_logp: float

    @property
    def mean_prob(self) -> float:
        return float(np.mean(self.char_probs)) if self.char_probs else 0.0

    @property
    def min_prob(self) -> float:
        return float(min(self.char_probs)) if self.char_probs else 0.0


def _masks(template: tuple[str, ...]) -> np.ndarray:
    mask = np.full((len(template), len(ALPHABET)), _NEG, dtype=np.float64)
    for k, allowed in enumerate(template):
        mask[k, [_INDEX[c] for c in allowed]] = 0.0
    return mask


_MASK_CACHE: dict[tuple[str, ...], np.ndarray] = {}


def reduce_probs(probs: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, C) softmax over the model's characters → log-probs over ALPHABET (T, M) and
    of 'blank or anything no plate uses' (T,). `columns` maps ALPHABET to model ids."""
    plate = probs[:, columns]
    blank = np.clip(1.0 - plate.sum(axis=1), 1e-12, 1.0)
    return np.log(np.clip(plate, 1e-12, 1.0)), np.log(blank)


_SURE_BLANK = float(np.log(0.995))


def _squeeze_blanks(logp: np.ndarray, blank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of frames that are surely blank (the padding right of a short plate, the
    gaps between characters) kept as one frame: the search gets 2-3x shorter and its
    result does not change, since one blank frame separates characters as well as many."""
    sure = blank > _SURE_BLANK
    keep = ~(sure & np.concatenate(([False], sure[:-1])))
    if keep.all():
        return logp, blank
    return logp[keep], blank[keep]


def ctc_decode(logp: np.ndarray, blank: np.ndarray, template: tuple[str, ...]) -> Decoded | None:
    """Most probable CTC path whose text fits `template` (one allowed set per position),
    or None when the sequence is too short to hold that many characters."""
    logp, blank = _squeeze_blanks(logp, blank)
    steps, width = logp.shape
    length = len(template)
    if steps < length:
        return None
    mask = _MASK_CACHE.get(template)
    if mask is None:
        mask = _MASK_CACHE[template] = _masks(template)
    # B[k]: best score having emitted k chars and sitting on blank;
    # H[k, c]: ... sitting on char c as the k-th char (row k-1 holds position k).
    b_score = np.full(length + 1, _NEG)
    h_score = np.full((length, width), _NEG)
    b_score[0] = blank[0]
    h_score[0] = logp[0] + mask[0]
    b_from_h = np.zeros((steps, length + 1), dtype=bool)
    b_arg = np.zeros((steps, length + 1), dtype=np.int32)
    h_src = np.zeros((steps, length, width), dtype=np.int8)  # 0 repeat, 1 from B, 2 from H
    h_prev = np.zeros((steps, length, width), dtype=np.int32)
    cols = np.arange(width)
    for t in range(1, steps):
        h_best = h_score.max(axis=1)
        h_argbest = h_score.argmax(axis=1)
        # Blank after k chars: stay on blank or leave the k-th char.
        stay = b_score.copy()
        leave = np.concatenate(([_NEG], h_best))
        new_b = np.maximum(stay, leave) + blank[t]
        b_from_h[t] = leave > stay
        b_arg[t, 1:] = h_argbest
        # Char c as k-th char: repeat it, or start it after blank (k-1), or after a
        # different char as (k-1)-th.
        tmp = h_score.copy()
        top1 = h_argbest
        tmp[np.arange(length), top1] = _NEG
        top2 = tmp.argmax(axis=1)
        second = tmp[np.arange(length), top2]
        # Previous row for position k is row k-1 (position k-1); position 0 has none.
        prev_best = np.full((length, width), _NEG)
        prev_arg = np.zeros((length, width), dtype=np.int32)
        if length > 1:
            same = cols[None, :] == top1[:-1, None]
            prev_best[1:] = np.where(same, second[:-1, None], h_best[:-1, None])
            prev_arg[1:] = np.where(same, top2[:-1, None], top1[:-1, None])
        from_b = np.broadcast_to(b_score[:length, None], (length, width))
        start = np.maximum(from_b, prev_best)
        src = np.where(h_score >= start, 0, np.where(from_b >= prev_best, 1, 2))
        new_h = np.maximum(h_score, start) + logp[t][None, :] + mask
        h_src[t] = src
        h_prev[t] = prev_arg
        b_score, h_score = new_b, new_h
    end_h = int(h_score[length - 1].argmax())
    if b_score[length] >= h_score[length - 1, end_h]:
        total = float(b_score[length])
        state: tuple[str, int, int] = ("b", length, 0)
    else:
        total = float(h_score[length - 1, end_h])
        state = ("h", length - 1, end_h)
    if total <= _NEG / 2:
        return None
    chars = [0] * length
    best = [0.0] * length
    for t in range(steps - 1, -1, -1):
        kind, k, c = state
        if kind == "b":
            if t == 0:
                break
            state = ("h", k - 1, int(b_arg[t, k])) if b_from_h[t, k] else ("b", k, 0)
            continue
        chars[k] = c
        best[k] = max(best[k], float(np.exp(logp[t, c])))
        if t == 0:
            break
        how = h_src[t, k, c]
        if how == 0:
            state = ("h", k, c)
        elif how == 1:
            state = ("b", k, 0)
        else:
            state = ("h", k - 1, int(h_prev[t, k, c]))
    text = "".join(ALPHABET[c] for c in chars)
    return Decoded(text=text, char_probs=tuple(best), path_logp=total)


def greedy_text(probs: np.ndarray, characters: list[str]) -> str:
    """Plain best-path decoding over every character the model knows (for comparison)."""
    ids = probs.argmax(axis=1)
    out = []
    last = -1
    for i in ids:
        if i != last and i != 0:
            out.append(characters[i])
        last = i
    return "".join(out)
