"""Reads an Understudy cassette file (JSON Lines) for the SDK harnesses' --replay-order
modes: the recorded JSON frames in order, with audio moved to WAV sidecars put back the
way the fixtures crate puts it back ({"$audio": {file, start, end[, alphabet]}} → the
base64 string, "$$audio" keys unescaped)."""
from __future__ import annotations

import base64
import json
import os
import wave
from typing import Any, Dict, List, Tuple


def restore_audio(value: Any, sidecars: Dict[str, bytes]) -> Any:
    if isinstance(value, list):
        return [restore_audio(v, sidecars) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, inner), = value.items()
        if key == "$audio":
            chunk = sidecars[inner["file"]][inner["start"] * 2:inner["end"] * 2]
            if inner.get("alphabet") == "url-safe":
                return base64.urlsafe_b64encode(chunk).decode()
            return base64.b64encode(chunk).decode()
        if key.endswith("audio") and key.startswith("$$") and set(key[:-5]) == {"$"}:
            return {key[1:]: restore_audio(inner, sidecars)}
    return {k: restore_audio(v, sidecars) for k, v in value.items()}


def read_json_frames(path: str) -> List[Tuple[int, str, Dict[str, Any]]]:
    """(t_us, "c2s"|"s2c", payload) for every JSON text/binary frame, in recorded order."""
    with open(path, encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh if line.strip()]
    header, frames = lines[0], lines[1:]
    sidecars: Dict[str, bytes] = {}
    for entry in header.get("audio") or []:
        with wave.open(os.path.join(os.path.dirname(path), entry["file"]), "rb") as w:
            sidecars[entry["file"]] = w.readframes(w.getnframes())
    return [(f["t_us"], f["dir"], restore_audio(f["json"], sidecars))
            for f in frames if f.get("kind") in ("text", "binary") and "json" in f]
