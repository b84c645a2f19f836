#!/usr/bin/env python3
"""Validate the GPT-Live example frames the adapters' wire tests round-trip
(adapters/tests/data/openai-live-{client,server}-examples.jsonl, synthesized
from the protocol notes) against the *unmodified* official `openai` SDK's own
models (`openai.types.live`), so that the fixtures the Rust wire types are
proven on are frames the SDK itself accepts.

Run with the harness venv (scripts/python-env.sh prints its python):

    PY=$(scripts/python-env.sh | tail -n1)
    $PY tests/sdk/openai_live_examples.py

Server frames are validated against the primary (`ServerEvent`) and sideband
(`ConnectServerEvent`) unions, client frames against the primary, sideband and
fork command unions, each frame with the union members its `type` names
(`session.start` is a primary or a fork start), in strict mode, and no field the SDK models do not declare may appear. Every `type` the SDK's unions define must have an example. One
deviation is allowed, on purpose: an `error` whose `code` is `null` (OpenAI's
guide says the code may be null; the SDK types it as a string but parses it
without validation).

Output: `OK openai-live-examples <N> frames` (exit 0) or `FAIL: ...` (exit 1).
"""

import json
import sys
import typing
from pathlib import Path

from pydantic import TypeAdapter

from openai.types.live.client_event import ClientEvent
from openai.types.live.connect_client_event import ConnectClientEvent
from openai.types.live.connect_server_event import ConnectServerEvent
from openai.types.live.fork_client_event import ForkClientEvent
from openai.types.live.server_event import ServerEvent

DATA = Path(__file__).resolve().parents[2] / "adapters" / "tests" / "data"


def members(union) -> list:
    """`(type literal, model class)` of an SDK discriminated union."""
    out = []
    for model in typing.get_args(typing.get_args(union)[0]):
        literal = model.model_fields["type"].annotation
        out.append((typing.get_args(literal)[0], model))
    return out


def undeclared(value, where: str = "") -> list[str]:
    """Fields the SDK models do not declare (`model_extra`), anywhere in the tree."""
    from pydantic import BaseModel

    found = []
    if isinstance(value, BaseModel):
        for key in value.model_extra or {}:
            found.append(f"{where}.{key}")
        for name in type(value).model_fields:
            found += undeclared(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found += undeclared(item, f"{where}[{index}]")
    return found


def check(path: Path, unions) -> tuple[int, list[str]]:
    by_type = {}
    for union in unions:
        for kind, model in members(union):
            models = by_type.setdefault(kind, [])
            if model not in models:
                models.append(model)
    failures, seen = [], set()
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    for line in lines:
        frame = json.loads(line)
        kind = frame.get("type")
        seen.add(kind)
        models = by_type.get(kind)
        if not models:
            failures.append(f"{path.name}: no SDK model for {kind}")
            continue
        if kind == "error" and frame.get("error", {}).get("code", "") is None:
            frame = json.loads(line)
            frame["error"]["code"] = "allowed_null"
        errors = []
        for model in models:  # `session.start` is a primary or a fork start
            try:
                parsed = TypeAdapter(model).validate_python(frame, strict=True)
            except Exception as error:  # noqa: BLE001 - report every failure
                errors.append(str(error))
                continue
            extra = undeclared(parsed)
            if not extra:
                break
            errors.append(f"fields the SDK does not declare: {extra}")
        else:
            failures.append(f"{path.name}: {kind}: " + "\n".join(errors))
    for kind in sorted(set(by_type) - seen):
        failures.append(f"{path.name}: no example of SDK type {kind}")
    return len(lines), failures


def main() -> int:
    total, failures = 0, []
    for name, unions in [
        ("openai-live-server-examples.jsonl", [ServerEvent, ConnectServerEvent]),
        ("openai-live-client-examples.jsonl", [ClientEvent, ConnectClientEvent, ForkClientEvent]),
    ]:
        count, failed = check(DATA / name, unions)
        total += count
        failures += failed
    if failures:
        print("FAIL: " + "\n".join(failures))
        return 1
    print(f"OK openai-live-examples {total} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
