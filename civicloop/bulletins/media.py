"""What a video upload really is, from its content (core's attachments take no video).

An MP4 must be an ISO-BMFF file (an `ftyp` box first, with a brand of the MP4 family)
whose `moov` holds a track with a `vide` handler; a WebM must be an EBML file whose
DocType is "webm" and whose Tracks hold a video track (TrackType 1). Names and declared
types are claims: a file named .mp4 that is a PDF or an audio-only M4A is refused."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Protocol

from django.utils.translation import gettext_lazy as _

from civicloop.bulletins.errors import BulletinError, BulletinErrorCode

MP4 = "video/mp4"
WEBM = "video/webm"
EXTENSIONS = {MP4: ".mp4", WEBM: ".webm"}
# Brands of ISO-BMFF files that carry MP4 video (ISO 14496-12/14, 3GPP, Apple).
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash",
     b"M4V ", b"qt  ", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"msnv", b"mmp4"}
)  # fmt: skip
# Boxes whose children are boxes, on the way from moov to a track's handler.
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia"})
_SCAN_LIMIT = 64 * 1024 * 1024  # a moov is at most a few MB; never read more than this


class Seekable(Protocol):
    def seek(self, offset: int, whence: int = ..., /) -> object: ...

    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True)
class VideoFormat:
    content_type: str
    extension: str


def _refuse(message: object) -> BulletinError:
    return BulletinError(BulletinErrorCode.FILE, message, field="videos")  # type: ignore[arg-type]


def _boxes(stream: Seekable, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO-BMFF boxes in [start, end)."""
    out = []
    offset = start
    while offset + 8 <= end:
        stream.seek(offset)
        header = stream.read(8)
        if len(header) < 8:
            break
        size, kind = struct.unpack(">I4s", header)
        payload = offset + 8
        if size == 1:
            large = stream.read(8)
            if len(large) < 8:
                break
            (size,) = struct.unpack(">Q", large)
            payload = offset + 16
        elif size == 0:
            size = end - offset
        if size < payload - offset or offset + size > end:
            break
        out.append((kind, payload, offset + size))
        offset += size
    return out


def _mp4_has_video(stream: Seekable, size: int) -> bool:
    def walk(start: int, end: int, depth: int) -> bool:
        for kind, payload, box_end in _boxes(stream, start, end):
            if kind == b"hdlr":
                stream.seek(payload + 8)  # version/flags (4) + pre_defined (4)
                if stream.read(4) == b"vide":
                    return True
            elif kind in _CONTAINERS and depth < 4 and walk(payload, box_end, depth + 1):
                return True
        return False

    return walk(0, min(size, _SCAN_LIMIT), 0)


def _ebml_vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at `pos`: (value, next position)."""
    first = data[pos]
    length = 1
    mask = 0x80
    while length <= 8 and not first & mask:
        mask >>= 1
        length += 1
    if length > 8 or pos + length > len(data):
        raise ValueError("bad vint")
    value = first if keep_marker else first & (mask - 1)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, pos + length


_EBML_HEADER = 0x1A45DFA3
_DOCTYPE = 0x4282
_SEGMENT = 0x18538067
_TRACKS = 0x1654AE6B
_TRACK_ENTRY = 0xAE
_TRACK_TYPE = 0x83


def _ebml_elements(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """(id, payload start, payload end) of the EBML elements in [start, end); an element
    of unknown size (a live recording's Segment) runs to `end`."""
    out = []
    pos = start
    while pos < end:
        try:
            element, pos_size = _ebml_vint(data, pos, keep_marker=True)
            size, payload = _ebml_vint(data, pos_size, keep_marker=False)
        except (ValueError, IndexError):
            break
        unknown = size == (1 << (7 * (payload - pos_size))) - 1
        stop = end if unknown else min(payload + size, end)
        out.append((element, payload, stop))
        if unknown:
            break
        pos = stop
    return out


def _webm_check(head: bytes) -> bool:
    """A WebM DocType and a video track in the Tracks (read from the file's head)."""
    top = _ebml_elements(head, 0, len(head))
    if not top or top[0][0] != _EBML_HEADER:
        return False
    header = {e: head[s:t] for e, s, t in _ebml_elements(head, top[0][1], top[0][2])}
    if header.get(_DOCTYPE, b"").rstrip(b"\0") != b"webm":
        return False
    for element, start, stop in top[1:]:
        if element != _SEGMENT:
            continue
        for child, c_start, c_stop in _ebml_elements(head, start, stop):
            if child != _TRACKS:
                continue
            for entry, e_start, e_stop in _ebml_elements(head, c_start, c_stop):
                if entry != _TRACK_ENTRY:
                    continue
                for field_id, f_start, f_stop in _ebml_elements(head, e_start, e_stop):
                    if field_id == _TRACK_TYPE and head[f_start:f_stop] == b"\x01":
                        return True
    return False


_WEBM_HEAD = 256 * 1024  # the Tracks come before the first cluster, near the start


def video_sniff(stream: Seekable, *, size: int) -> VideoFormat:
    """The video format the content proves, or BulletinError (FILE) saying what it is not.
    `stream` must be seekable; it is left at its start."""
    stream.seek(0)
    head = stream.read(_WEBM_HEAD)
    try:
        if len(head) >= 12 and head[4:8] == b"ftyp":
            brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(len(head), 64), 4)}
            if brands & _MP4_BRANDS and _mp4_has_video(stream, size):
                return VideoFormat(MP4, ".mp4")
            raise _refuse(_("这个 MP4 文件没有视频画面（可能是音频文件），请上传视频。"))
        if head.startswith(b"\x1a\x45\xdf\xa3"):
            if _webm_check(head):
                return VideoFormat(WEBM, ".webm")
            raise _refuse(_("这个 WebM 文件没有视频画面，请上传视频。"))
        raise _refuse(_("文件内容不是视频，请上传 MP4 或 WebM 格式的视频。"))
    finally:
        stream.seek(0)
