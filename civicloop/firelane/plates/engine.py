"""The one RapidOCR engine of the process, created on first use, shared by all threads.

RapidOCR keeps the options of a call (use_det, use_cls, thresholds...) for the next
call, so every call here passes all of them, and calls are serialised by a lock:
another thread's options must never leak into ours. Models are the PP-OCRv4 files
bundled in the rapidocr wheel, named by path, so nothing is ever downloaded.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

RAPIDOCR_LOGGER = "RapidOCR"

_lock = threading.Lock()
_engine: Any = None
_columns: np.ndarray | None = None

# Detection thresholds (rapidocr's defaults, stated so a library upgrade cannot move them).
DET_BOX_THRESH = 0.5
DET_UNCLIP_RATIO = 1.6
DET_TEXT_SCORE = 0.0  # we filter candidates ourselves
DET_LONG_SIDE = 960
ORT_THREADS = 1
# Lines are padded to at least 320x48 as PP-OCR trained them: padding plates (3.5:1)
# less is faster but measurably less accurate.
REC_MIN_RATIO = 320 / 48
# One line per inference: plates are narrower than 320 px at height 48, so every input
# has the same shape, and onnxruntime never meets (and slowly prepares for) a new
# batch shape; batching gained nothing measurable on CPU.
REC_BATCH = 1


def _quiet_rapidocr() -> None:
    """rapidocr logs INFO lines to its own handler; keep only warnings, on stderr."""
    log = logging.getLogger(RAPIDOCR_LOGGER)
    log.setLevel(logging.WARNING)
    for handler in log.handlers:
        handler.setLevel(logging.WARNING)
        if isinstance(handler, logging.StreamHandler) and handler.stream is not sys.stderr:
            handler.setStream(sys.stderr)


def bundled_model_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


def _build() -> Any:
    _quiet_rapidocr()
    from rapidocr import RapidOCR

    models = bundled_model_dir()
    params = {
        "Global.use_cls": False,
        "Global.log_level": "warning",
        "Global.model_root_dir": str(models),
        "Det.model_path": str(models / "ch_PP-OCRv4_det_mobile.onnx"),
        "Rec.model_path": str(models / "ch_PP-OCRv4_rec_mobile.onnx"),
        "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
        # rapidocr's default scales the *short* side up to 736 px, which makes a
        # 1600x1200 frame 981x736 and a wide 775x345 one 1653x736: slow for no gain.
        # With "max" it leaves images up to 2000 px alone; `detect` scales them first.
        "Det.limit_type": "max",
        # One thread per inference: on a small shared machine two spinning threads per
        # call lose more to contention than they win (measured on the 2-core box).
        "EngineConfig.onnxruntime.intra_op_num_threads": ORT_THREADS,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    engine = RapidOCR(params=params)
    _quiet_rapidocr()
    return engine


def _get() -> Any:
    global _engine, _columns
    if _engine is None:
        from civicloop.firelane.plates.decode import ALPHABET

        engine = _build()
        characters = engine.text_rec.postprocess_op.character
        index = {c: i for i, c in enumerate(characters)}
        _columns = np.array([index[c] for c in ALPHABET], dtype=np.int64)
        _engine = engine
    return _engine


def alphabet_columns() -> np.ndarray:
    with _lock:
        _get()
    assert _columns is not None
    return _columns


def characters() -> list[str]:
    with _lock:
        return list(_get().text_rec.postprocess_op.character)


def detect(image: np.ndarray, *, long_side: int = DET_LONG_SIDE) -> np.ndarray:
    """Text boxes (N, 4, 2) in image coordinates, by the PP-OCRv4 detector, run on a
    copy scaled to a long side of at most `long_side`."""
    scale = min(1.0, long_side / float(max(image.shape[:2])))
    if scale < 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    with _lock:
        engine = _get()
        result = engine(
            image,
            use_det=True,
            use_cls=False,
            use_rec=False,
            return_word_box=False,
            return_single_char_box=False,
            text_score=DET_TEXT_SCORE,
            box_thresh=DET_BOX_THRESH,
            unclip_ratio=DET_UNCLIP_RATIO,
        )
    boxes = getattr(result, "boxes", None)
    if boxes is None or len(boxes) == 0:
        return np.zeros((0, 4, 2), dtype=np.float32)
    return np.asarray(boxes, dtype=np.float32) / scale


def recognize(images: list[np.ndarray]) -> list[np.ndarray]:
    """Per image, the recogniser's (T, C) character probabilities. Images of a batch are
    padded to the widest; batches group similar widths as rapidocr does."""
    if not images:
        return []
    with _lock:
        engine = _get()
        rec = engine.text_rec
        out: list[np.ndarray] = [np.zeros((0, 0))] * len(images)
        ratios = [img.shape[1] / float(img.shape[0]) for img in images]
        order = np.argsort(ratios)
        batch = REC_BATCH
        for start in range(0, len(images), batch):
            ids = order[start : start + batch]
            max_ratio = max(REC_MIN_RATIO, *(ratios[i] for i in ids))
            norm = np.stack([rec.resize_norm_img(images[i], max_ratio) for i in ids])
            preds = rec.session(norm.astype(np.float32))
            for j, i in enumerate(ids):
                out[i] = preds[j]
    return out


def text_plain(image: bytes | np.ndarray, *, use_det: bool) -> str:
    """Plain rapidocr reading (the benchmark's baseline): every text line joined, with
    detection or, for a tight plate crop, the recogniser alone."""
    with _lock:
        result = _get()(
            image,
            use_det=use_det,
            use_cls=False,
            use_rec=True,
            return_word_box=False,
            return_single_char_box=False,
            text_score=0.5,
            box_thresh=DET_BOX_THRESH,
            unclip_ratio=DET_UNCLIP_RATIO,
        )
    return "".join(getattr(result, "txts", None) or ())
