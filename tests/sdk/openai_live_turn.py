#!/usr/bin/env python3
"""Drive one GPT-Live session with the *unmodified* official `openai` Python SDK
(`client.live.connect()`) against a mock server, and validate every server event
strictly against the SDK's own `openai.types.live` pydantic models.

Run with the harness venv (scripts/python-env.sh prints its python):

    PY=$(scripts/python-env.sh | tail -n1)
    $PY tests/sdk/openai_live_turn.py --base-url http://127.0.0.1:PORT/v1 \
        --audio fixtures/audio/user-weather-24k.wav --delegate-audio fixtures/audio/user-order-24k.wav
    $PY tests/sdk/openai_live_turn.py --base-url ... --cassette NAME ...   (a replaying mock)
    $PY tests/sdk/openai_live_turn.py --base-url ... --write-wire FILE ... (log every frame, for a cassette)
    $PY tests/sdk/openai_live_turn.py --base-url ... --scenario responses --audio fixtures/audio/user-weather-24k.wav
    $PY tests/sdk/openai_live_turn.py --base-url ... --expect-auth-failure
    $PY tests/sdk/openai_live_turn.py --self-check

The session (scenario `turn`):
  1. `session.start` (event_id c1) → `session.started` echoing c1, with the
     resolved configuration (model, audio format, voice, client delegation).
  2. A spoken turn: the WAV's PCM16 24 kHz audio in 20 ms appends, then silence,
     streamed like a live microphone until the reply has been spoken; the input
     transcript must read the utterance, the output transcript must be non-empty,
     voiced output audio must arrive, and the SDK's own TranscriptGrouper must
     accept every transcript event.
  3. A client-delegation round trip: the second WAV makes the model delegate
     (`session.delegation.created`, target client); the harness answers with
     `session.commentary.append{delegation_id}` (event_id c3) and streams on until
     `session.commentary.appended` (c3) and the model speaking the result.
  4. The other commands: `session.update` (u1) → `session.updated`, mute/unmute,
     `response.create` under client delegation → the service's error,
     `decision.create` / `decision.item.create` / `decision.item.delete`,
     `session.instructions.append` → `…appended`, and `session.usage.updated`
     after 15 s of streamed timeline.
  5. A clean close: `session.close` (c9) → `session.closed` (close_requested, c9,
     usage) and the SDK's iterator ends without error (close 1000).

Strictness: each frame is read raw with `connection.recv_bytes()`, json-decoded,
validated with `pydantic.TypeAdapter(openai.types.live.ServerEvent)` in strict
mode, and the validated model tree is walked: any field the SDK model does not
declare (`model_extra`) fails the run. Events the SDK requires `event_id` on
must carry a non-empty one; `session.output_audio.delta` must carry none.

Output: `<- <type>` per server event (audio deltas counted, not listed), `-> <type>`
per client command, then `OK <scenario> <N> events` (exit 0) or `FAIL: ...` (exit 1).

Scenario `responses`: a session with Responses delegation and a `get_weather` function
tool; the spoken weather question must come back as a responses delegation with nested
`response.created` / function call / `response.completed` events; the harness answers with
`response.item.create {function_call_output}` and `response.create`, and the model must
speak the result after the continuation's `response.completed`.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
import typing
import wave
from typing import Any, Dict, List, Optional, Set, Tuple

import pydantic
from pydantic import TypeAdapter, ValidationError


class HarnessFailure(Exception):
    """A conformance failure (exit 1)."""


def fail(msg: str) -> typing.NoReturn:
    raise HarnessFailure(msg)


# --------------------------------------------------------------------------------------
# Strict validation against the SDK's own event union
# --------------------------------------------------------------------------------------

UNION_PATH = "openai.types.live.ServerEvent"
# Events the SDK declares without an event_id.
NO_EVENT_ID = {"session.output_audio.delta", "session.input_audio.append"}


def _union_members(alias: Any) -> Tuple[type, ...]:
    if typing.get_origin(alias) is typing.Annotated:
        alias = typing.get_args(alias)[0]
    return typing.get_args(alias)


def _type_literal(cls: type) -> str:
    ann = cls.model_fields["type"].annotation  # type: ignore[attr-defined]
    vals = typing.get_args(ann)
    if len(vals) != 1 or not isinstance(vals[0], str):
        raise RuntimeError(f"{cls.__name__}.type is not a single Literal: {ann!r}")
    return vals[0]


def _fmt_errors(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors()[:8]:
        loc = ".".join(str(x) for x in e.get("loc", ()))
        inp = e.get("input")
        inp_s = json.dumps(inp)[:80] if isinstance(inp, (str, int, float, bool, type(None))) else type(inp).__name__
        parts.append(f"{loc or '<root>'}: {e.get('msg')} (got {inp_s})")
    return "; ".join(parts)


def _collect_extras(obj: Any, path: str, out: List[str]) -> None:
    """Walks a validated model tree and reports every `model_extra` key."""
    def join(a: str, b: str) -> str:
        return f"{a}.{b}" if a else b

    if isinstance(obj, pydantic.BaseModel):
        for k in (obj.model_extra or {}):
            out.append(join(path, k))
        for name, finfo in type(obj).model_fields.items():
            _collect_extras(getattr(obj, name, None), join(path, finfo.alias or name), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _collect_extras(v, f"{path}[{i}]", out)


class StrictValidator:
    def __init__(self) -> None:
        from openai.types.live import ServerEvent

        self.adapter = TypeAdapter(ServerEvent)
        self.by_type: Dict[str, type] = {}
        for cls in _union_members(ServerEvent):
            self.by_type[_type_literal(cls)] = cls

    def validate(self, raw: bytes | str) -> Tuple[Dict[str, Any], pydantic.BaseModel]:
        try:
            data = json.loads(raw)
        except ValueError as e:
            fail(f"server frame is not valid JSON ({e}): {raw[:200]!r}")
        if not isinstance(data, dict):
            fail(f"server frame is not a JSON object: {raw[:200]!r}")
        t = data.get("type")
        if not isinstance(t, str):
            fail(f"server event without string 'type': {raw[:200]!r}")
        if t not in self.by_type:
            fail(f"event type {t!r} is not in {UNION_PATH} (a Realtime API name?)")
        try:
            model = self.adapter.validate_python(data, strict=True)
        except ValidationError:
            try:
                self.by_type[t].model_validate(data, strict=True)  # type: ignore[attr-defined]
            except ValidationError as e:
                fail(f"{t}: does not validate against {self.by_type[t].__name__}: {_fmt_errors(e)}")
            fail(f"{t}: does not validate against {UNION_PATH}")
        if type(model) is not self.by_type[t]:
            fail(f"{t}: union resolved to {type(model).__name__}, expected {self.by_type[t].__name__}")
        extras: List[str] = []
        _collect_extras(model, "", extras)
        if extras:
            fail(f"{t}: field(s) not declared by the SDK model {type(model).__name__}: {', '.join(extras)}")
        if t in NO_EVENT_ID:
            if "event_id" in data:
                fail(f"{t} carries an event_id; the service sends none on it")
        elif not data.get("event_id"):
            fail(f"{t} without a non-empty event_id")
        return data, model


# --------------------------------------------------------------------------------------
# The session
# --------------------------------------------------------------------------------------

INSTRUCTIONS = "You are a terse assistant used by the Understudy GPT-Live SDK test."
FRAME_BYTES = 960  # 20 ms of PCM16 at 24 kHz
RESULT = "Order A17 shipped yesterday."


def read_wav(path: str) -> bytes:
    with wave.open(path, "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, 24000):
            fail(f"{path}: need mono PCM16 at 24 kHz, got {w.getnchannels()} ch, "
                 f"{w.getsampwidth() * 8} bit, {w.getframerate()} Hz")
        return w.readframes(w.getnframes())


def loud(delta_b64: str) -> bool:
    pcm = base64.b64decode(delta_b64)
    return any(abs(int.from_bytes(pcm[i:i + 2], "little", signed=True)) > 64 for i in range(0, len(pcm) - 1, 2))


class Session:
    """Reads and validates every frame in a background task; streams audio."""

    def __init__(self, conn: Any, validator: StrictValidator, wire: Optional[Any]) -> None:
        from openai.lib.live import TranscriptGrouper

        self.conn = conn
        self.validator = validator
        self.wire = wire
        self.t0 = time.monotonic()
        self.events: List[Dict[str, Any]] = []
        self.audio_deltas = 0
        self.voiced = 0
        self.ended: Optional[BaseException] = None
        self.finished = asyncio.Event()
        self.arrived = asyncio.Event()
        self.waiting_for = "nothing"
        self.segments: Dict[str, Any] = {}
        self.grouper = TranscriptGrouper()
        self.grouper.on("segment.updated", lambda s: self.segments.__setitem__(s.id, s))
        self.task: Optional[asyncio.Task[None]] = None

    def log_wire(self, direction: str, data: Any) -> None:
        if self.wire is not None:
            t_us = int((time.monotonic() - self.t0) * 1_000_000)
            self.wire.write(json.dumps({"t_us": t_us, "dir": direction, "json": data}) + "\n")

    def start(self) -> None:
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosedOK

        try:
            while True:
                raw = await self.conn.recv_bytes()
                data, _model = self.validator.validate(raw)
                self.log_wire("s2c", data)
                t = data["type"]
                if t == "session.output_audio.delta":
                    self.audio_deltas += 1
                    self.voiced += loud(data["delta"])
                else:
                    print(f"<- {t}", flush=True)
                # The SDK's own consumer of transcript events must accept them.
                self.grouper.push(self.conn.parse_event(raw))
                self.events.append(data)
                self.arrived.set()
        except ConnectionClosedOK as e:
            self.ended = e
            if e.rcvd is not None:
                self.log_wire("s2c-close", {"code": e.rcvd.code, "reason": e.rcvd.reason})
        except BaseException as e:  # noqa: BLE001 - reported by the waiter
            self.ended = e
        finally:
            self.finished.set()
            self.arrived.set()

    async def send(self, event: Dict[str, Any]) -> None:
        if event["type"] != "session.input_audio.append":
            print(f"-> {event['type']}", flush=True)
        self.log_wire("c2s", event)
        await self.conn.send(event)

    def of(self, kind: str, since: int = 0) -> List[Dict[str, Any]]:
        return [e for e in self.events[since:] if e["type"] == kind]

    def check_alive(self) -> None:
        if self.finished.is_set():
            if isinstance(self.ended, HarnessFailure):
                raise self.ended
            fail(f"connection ended while waiting for {self.waiting_for}: {self.ended!r}")

    async def wait_for(self, what: str, done: typing.Callable[[], bool], timeout: float = 10.0) -> None:
        self.waiting_for = what
        deadline = time.monotonic() + timeout
        while not done():
            self.check_alive()
            self.arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                fail(f"timeout waiting for {what}; saw {self.summary()}")
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def stream(self, pcm: bytes) -> None:
        for i in range(0, len(pcm), FRAME_BYTES):
            chunk = pcm[i:i + FRAME_BYTES]
            await self.send({"type": "session.input_audio.append", "audio": base64.b64encode(chunk).decode()})
            if i % (FRAME_BYTES * 5) == 0:
                await asyncio.sleep(0.002)  # let the reader keep up
            self.check_alive()

    async def stream_until(self, what: str, done: typing.Callable[[], bool], max_ms: int = 15_000) -> None:
        """Streams silence like an open microphone, 100 ms at a time, until `done`."""
        self.waiting_for = what
        silence = bytes(FRAME_BYTES * 5)
        streamed = 0
        while not done():
            if streamed >= max_ms:
                fail(f"{what} did not happen within {max_ms} ms of streamed audio; saw {self.summary()}")
            await self.stream(silence)
            streamed += 100
            await asyncio.sleep(0.003)

    def summary(self) -> str:
        kinds: List[str] = []
        for e in self.events:
            if e["type"] != "session.output_audio.delta":
                kinds.append(e["type"])
        return f"{len(self.events)} events ({self.audio_deltas} audio deltas): " + ", ".join(kinds[-25:])

    def spoken_after(self, since: int) -> str:
        return "".join(e["delta"] for e in self.of("session.output_transcript.delta", since))

    def reply_finished(self, since: int) -> bool:
        """The model spoke after `since` and its voice has ended: an output
        transcript arrived, voiced audio followed it, and the 300 ms of track
        since the last voiced chunk are silent."""
        spoken = [i for i, e in enumerate(self.events) if i >= since and e["type"] == "session.output_transcript.delta"]
        if not spoken:
            return False
        deltas = [e for e in self.events[spoken[0]:] if e["type"] == "session.output_audio.delta"]
        voiced = [i for i, d in enumerate(deltas) if loud(d["delta"])]
        return bool(voiced) and len(deltas) - 1 - voiced[-1] >= 3


async def scenario_turn(session: Session, args: argparse.Namespace) -> None:
    validator_errors = session.of("error")
    if validator_errors:
        fail(f"unexpected error before start: {validator_errors[0]}")
    start = {"type": "session.start", "event_id": "c1", "session": {
        "model": args.model, "instructions": INSTRUCTIONS,
        "audio": {"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "marin"}},
        "delegation": {"type": "client"}}}
    await session.send(start)
    await session.wait_for("session.started", lambda: bool(session.of("session.started") or session.of("error")))
    if session.of("error"):
        fail(f"session.start refused: {session.of('error')[0]['error']}")
    started = session.of("session.started")[0]
    if started.get("client_event_id") != "c1":
        fail(f"session.started client_event_id = {started.get('client_event_id')!r}, expected 'c1'")
    resolved = started["session"]
    expect = {"model": args.model, "instructions": INSTRUCTIONS, "status": "active",
              "audio": {"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "marin"}},
              "delegation": {"type": "client"}}
    for key, value in expect.items():
        if resolved.get(key) != value:
            fail(f"session.started session.{key} = {resolved.get(key)!r}, expected {value!r}")
    if not isinstance(resolved.get("expires_at"), int) or resolved["expires_at"] <= time.time():
        fail(f"session.started expires_at = {resolved.get('expires_at')!r} is not in the future")

    # 1. A spoken turn.
    mark = len(session.events)
    await session.stream(read_wav(args.audio))
    await session.stream_until("the spoken reply", lambda: session.reply_finished(mark))
    heard = "".join(e["delta"] for e in session.of("session.input_transcript.delta", mark))
    if heard != args.expect_transcript:
        fail(f"input transcript {heard!r}, expected {args.expect_transcript!r}")
    said = session.spoken_after(mark)
    print(f"   model said: {said!r}", flush=True)
    voiced = [d for d in session.of("session.output_audio.delta", mark) if loud(d["delta"])]
    if len(voiced) < 5:
        fail(f"only {len(voiced)} voiced output audio deltas for the reply")
    for e in session.of("session.input_transcript.delta", mark) + session.of("session.output_transcript.delta", mark):
        if not (isinstance(e["start_ms"], int) and isinstance(e["end_ms"], int) and e["start_ms"] <= e["end_ms"]):
            fail(f"{e['type']} with bad timing: {e}")
    last_heard = max(e["end_ms"] for e in session.of("session.input_transcript.delta", mark))
    first_said = session.of("session.output_transcript.delta", mark)[0]["start_ms"]
    if first_said < last_heard:
        fail(f"the reply starts at {first_said} ms, before the user finished at {last_heard} ms")

    # 2. A client-delegation round trip.
    mark = len(session.events)
    await session.stream(read_wav(args.delegate_audio))
    await session.stream_until("session.delegation.created",
                               lambda: bool(session.of("session.delegation.created", mark)))
    created = session.of("session.delegation.created", mark)[0]
    delegation = created["delegation"]
    if delegation.get("target") != "client" or delegation.get("type") != "delegation":
        fail(f"delegation {delegation!r}, expected target client, type delegation")
    await session.stream_until("the spoken acknowledgement", lambda: session.reply_finished(mark))
    mark = len(session.events)
    await session.send({"type": "session.commentary.append", "event_id": "c3", "content": RESULT,
                        "delegation_id": delegation["id"]})
    await session.stream_until("the spoken result", lambda: session.reply_finished(mark))
    acks = session.of("session.commentary.appended", mark)
    if len(acks) != 1 or acks[0].get("client_event_id") != "c3":
        fail(f"expected one session.commentary.appended for c3, got {acks}")
    if session.spoken_after(mark) != RESULT:
        fail(f"the model said {session.spoken_after(mark)!r} after the result, expected {RESULT!r}")

    # 3. The session's other commands, each answered in the SDK's shapes.
    await session.send({"type": "session.update", "event_id": "u1",
                        "session": {"delegation": {"type": "client", "acknowledgement_delay_ms": 100}}})
    await session.wait_for("session.updated", lambda: bool(session.of("session.updated")))
    updated = session.of("session.updated")[0]
    if updated.get("client_event_id") != "u1" or \
            updated["session"].get("delegation") != {"type": "client", "acknowledgement_delay_ms": 100}:
        fail(f"session.updated does not reflect the update: {updated}")
    await session.send({"type": "session.input_audio.mute", "event_id": "m1"})
    await session.send({"type": "session.input_audio.unmute", "event_id": "m2"})
    await session.wait_for("muted and unmuted", lambda: bool(session.of("session.input_audio.unmuted")))
    if [e.get("client_event_id") for e in session.of("session.input_audio.muted")] != ["m1"]:
        fail(f"session.input_audio.muted: {session.of('session.input_audio.muted')}")
    # response.* belongs to Responses delegation: an error in the service's shape.
    await session.send({"type": "response.create", "event_id": "r1"})
    await session.wait_for("the error", lambda: bool(session.of("error")))
    error = session.of("error")[0]
    if error.get("client_event_id") != "r1" or "Responses delegation" not in error["error"]["message"]:
        fail(f"response.create under client delegation: {error}")
    session.events.remove(error)
    # Decisions: run one, and add and remove an input item.
    await session.send({"type": "decision.create", "event_id": "d1"})
    await session.send({"type": "decision.item.create", "event_id": "di1", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Order 42"}]}})
    await session.wait_for("decision.item.created", lambda: bool(session.of("decision.item.created")))
    item_id = session.of("decision.item.created")[0]["item"]["id"]
    await session.send({"type": "decision.item.delete", "event_id": "dd1", "item_id": item_id})
    await session.wait_for("decision.item.deleted", lambda: bool(session.of("decision.item.deleted")))
    if not session.of("decision.event") or session.of("decision.event")[0]["event"]["type"] != "decision.completed":
        fail(f"decision.create: {session.of('decision.event')}")
    await session.send({"type": "session.instructions.append", "event_id": "i1",
                        "content": "Keep answers short.", "delegation_id": None})
    # An open microphone places the append and, every 15 s of timeline, reports usage.
    await session.stream_until("session.instructions.appended and session.usage.updated",
                               lambda: bool(session.of("session.instructions.appended")
                                            and session.of("session.usage.updated")), max_ms=20_000)
    usage = session.of("session.usage.updated")[0]
    if usage["usage"]["seconds"] < 15 or "usage_ratio" not in (usage.get("context_window") or {}):
        fail(f"session.usage.updated {usage}")

    # 4. A clean close.
    await session.send({"type": "session.close", "event_id": "c9"})
    await session.wait_for("session.closed", lambda: bool(session.of("session.closed")))
    closed = session.of("session.closed")[0]
    if closed.get("reason") != "close_requested" or closed.get("client_event_id") != "c9":
        fail(f"session.closed {closed.get('reason')!r}/{closed.get('client_event_id')!r}, "
             "expected close_requested/c9")
    if closed["session"]["id"] != resolved["id"]:
        fail("session.closed names another session")
    if not closed["usage"]["seconds"] >= 1:
        fail(f"session.closed usage {closed['usage']!r}: no billable seconds")
    await session.wait_for("the end of the connection", lambda: session.finished.is_set())
    from websockets.exceptions import ConnectionClosedOK
    if not isinstance(session.ended, ConnectionClosedOK):
        fail(f"the connection did not end cleanly: {session.ended!r}")
    if session.of("error"):
        fail(f"unexpected error events: {session.of('error')}")
    session.grouper.close()
    speakers = {s.speaker for s in session.segments.values()}
    if speakers != {"user", "assistant"}:
        fail(f"the SDK's TranscriptGrouper saw speakers {speakers}")
    if not any(s.text == args.expect_transcript for s in session.segments.values() if s.speaker == "user"):
        fail(f"the TranscriptGrouper's user segments: {[s.text for s in session.segments.values()]}")


WEATHER_TOOL = {"type": "function", "name": "get_weather", "description": "Current weather for a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


async def scenario_responses(session: Session, args: argparse.Namespace) -> None:
    """Responses delegation: the spoken request runs the hosted backend, whose
    function call comes back nested in `response.event`s; the harness answers
    with `response.item.create {function_call_output}` + `response.create` and
    the model speaks the continuation."""
    await session.send({"type": "session.start", "event_id": "c1", "session": {
        "model": args.model, "instructions": INSTRUCTIONS,
        "delegation": {"type": "responses", "responses": {"model": "gpt-5-mini", "tools": [WEATHER_TOOL]}}}})
    await session.wait_for("session.started", lambda: bool(session.of("session.started") or session.of("error")))
    if session.of("error"):
        fail(f"session.start refused: {session.of('error')[0]['error']}")
    delegation = session.of("session.started")[0]["session"].get("delegation") or {}
    if delegation.get("type") != "responses" or delegation["responses"].get("tools") != [WEATHER_TOOL]:
        fail(f"session.started delegation {delegation!r}")
    await session.stream(read_wav(args.audio))

    def completed() -> List[Dict[str, Any]]:
        return [e for e in session.of("response.event") if e["event"].get("type") == "response.completed"]

    await session.stream_until("the backend's first response", lambda: bool(completed()))
    created = session.of("session.delegation.created")
    if len(created) != 1 or created[0]["delegation"].get("target") != "responses":
        fail(f"expected one responses delegation, got {created}")
    delegation_id = created[0]["delegation"]["id"]
    response_id = created[0]["delegation"].get("response_id")
    nested = session.of("response.event")
    if any(e.get("delegation_id") != delegation_id for e in nested):
        fail("a response.event without the delegation's id")
    if nested[0]["event"].get("type") != "response.created" or nested[0]["event"]["response"]["id"] != response_id:
        fail(f"the backend response does not start with response.created {response_id}: {nested[0]}")
    calls = [e["event"]["item"] for e in nested
             if e["event"].get("type") == "response.output_item.done" and e["event"]["item"].get("type") == "function_call"]
    if len(calls) != 1 or calls[0].get("name") != "get_weather":
        fail(f"expected one get_weather call, got {calls}")
    arguments = json.loads(calls[0]["arguments"])
    print(f"   backend called get_weather({arguments})", flush=True)
    mark = len(session.events)
    await session.send({"type": "response.item.create", "item": {
        "type": "function_call_output", "call_id": calls[0]["call_id"], "output": json.dumps({"forecast": "sunny"})}})
    await session.send({"type": "response.create"})
    await session.stream_until("the spoken continuation", lambda: session.reply_finished(mark))
    if len(completed()) != 2:
        fail(f"expected the continuation's response.completed, got {len(completed())} terminals")
    said = session.spoken_after(mark)
    print(f"   model said: {said!r}", flush=True)
    if "sunny" not in said:
        fail(f"the model did not speak the function's result: {said!r}")
    await session.send({"type": "session.close", "event_id": "c9"})
    await session.wait_for("session.closed", lambda: bool(session.of("session.closed")))
    await session.wait_for("the end of the connection", lambda: session.finished.is_set())
    if session.of("error"):
        fail(f"unexpected error events: {session.of('error')}")


async def scenario_auth_failure(session: Session) -> None:
    # The refusal may come before anything is sent (as the mock's does), so a
    # send that finds the socket closed is part of the expected outcome.
    from websockets.exceptions import ConnectionClosed
    try:
        await session.send({"type": "session.start", "session": {"model": "gpt-live-1"}})
    except ConnectionClosed:
        pass
    await session.wait_for("the refusal", lambda: session.finished.is_set())
    errors = session.of("error")
    if not errors or errors[0]["error"].get("code") != "invalid_api_key":
        fail(f"expected error invalid_api_key, got {session.summary()}")
    if session.of("session.started"):
        fail("session.started despite a bad key")
    code = getattr(getattr(session.ended, "rcvd", None), "code", None)
    if code != 3000:
        fail(f"expected close 3000 after invalid_api_key, got {session.ended!r}")
    print(f"   closed with {code}", flush=True)


async def run(args: argparse.Namespace) -> int:
    from openai import AsyncOpenAI

    api_key = args.api_key or ("understudy-invalid-key" if args.expect_auth_failure else "sk-test")
    client = AsyncOpenAI(api_key=api_key, base_url=args.base_url, max_retries=0)
    validator = StrictValidator()
    extra = {"extra_query": {"cassette": args.cassette}} if args.cassette else {}
    wire = open(args.write_wire, "w", encoding="utf-8") if args.write_wire else None
    manager = client.live.connect(**extra)
    session: Optional[Session] = None
    try:
        try:
            conn = await manager.__aenter__()
        except Exception as e:
            fail(f"WebSocket connect to {args.base_url}/live/sessions failed: {type(e).__name__}: {e}")
        session = Session(conn, validator, wire)
        session.start()
        try:
            if args.expect_auth_failure:
                await scenario_auth_failure(session)
            elif args.scenario == "responses":
                await scenario_responses(session, args)
            else:
                await scenario_turn(session, args)
        finally:
            try:
                await manager.__aexit__(None, None, None)
            except Exception:
                pass
            if session.task is not None and not session.task.done():
                session.task.cancel()
    finally:
        if wire is not None:
            wire.close()
    label = "auth-failure" if args.expect_auth_failure else args.scenario
    print(f"OK {label} {len(session.events) if session else 0} events "
          f"({session.audio_deltas if session else 0} audio deltas, {session.voiced if session else 0} voiced)",
          flush=True)
    return 0


# --------------------------------------------------------------------------------------
# --self-check: the validator without a server
# --------------------------------------------------------------------------------------

STARTED = {"type": "session.started", "event_id": "event_3xQ", "client_event_id": "c1",
           "session": {"id": "live_u7_9fK2", "status": "active", "expires_at": 1791373550,
                       "model": "gpt-live-1", "instructions": "Be brief.",
                       "audio": {"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "marin"}},
                       "delegation": {"type": "client"}, "input": []}}
DELTA = {"type": "session.output_audio.delta", "delta": "AAAA"}
TRANSCRIPT = {"type": "session.input_transcript.delta", "event_id": "event_1", "delta": "What's",
              "start_ms": 1000, "end_ms": 1200}
DELEGATION = {"type": "session.delegation.created", "event_id": "event_2", "offset_ms": 1800,
              "delegation": {"id": "item_1", "type": "delegation", "target": "client"}}
CLOSED = {"type": "session.closed", "event_id": "event_9", "client_event_id": "c9", "reason": "close_requested",
          "session": STARTED["session"], "usage": {"seconds": 16}}
ERROR = {"type": "error", "event_id": "event_9Lm", "client_event_id": "c7",
         "error": {"type": "invalid_request_error", "code": "unknown_parameter",
                   "message": "Unknown parameter: 'session.voice'.", "param": "session.voice",
                   "client_event_id": "c7"}}


def _with(d: Dict[str, Any], path: str, value: Any) -> Dict[str, Any]:
    out = json.loads(json.dumps(d))
    cur = out
    keys = path.split(".")
    for k in keys[:-1]:
        cur = cur[k]
    cur[keys[-1]] = value
    return out


def _without(d: Dict[str, Any], key: str) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


def self_check() -> int:
    v = StrictValidator()
    cases: List[Tuple[str, Any, bool]] = [
        ("session.started (protocol §3.2)", STARTED, True),
        ("output audio delta", DELTA, True),
        ("input transcript delta", TRANSCRIPT, True),
        ("delegation created", DELEGATION, True),
        ("session.closed", CLOSED, True),
        ("error (protocol §9)", ERROR, True),
        # --- must be rejected ---
        ("audio delta with an event_id", {**DELTA, "event_id": "event_x"}, False),
        ("transcript delta without event_id", _without(TRANSCRIPT, "event_id"), False),
        ("transcript delta with start_ms as a string", {**TRANSCRIPT, "start_ms": "1000"}, False),
        ("session.started with an unknown session field", _with(STARTED, "session.voice", "marin"), False),
        ("session.started without expires_at", _with(STARTED, "session", _without(STARTED["session"], "expires_at")), False),
        ("session.closed with an unknown reason", {**CLOSED, "reason": "bye"}, False),
        ("delegation with an unknown target", _with(DELEGATION, "delegation.target", "tools"), False),
        ("error with a null code", _with(ERROR, "error.code", None), False),
        ("a Realtime API event name", {"type": "session.created", "event_id": "e", "session": {}}, False),
        ("a Realtime audio delta", {"type": "response.output_audio.delta", "event_id": "e", "delta": "AAAA"}, False),
        ("not JSON", "not json", False),
    ]
    bad = 0
    for name, ev, ok in cases:
        raw = ev if isinstance(ev, str) else json.dumps(ev)
        try:
            v.validate(raw)
            got, why = True, ""
        except HarnessFailure as f:
            got, why = False, str(f)
        status = "PASS" if got == ok else "FAIL"
        bad += status == "FAIL"
        print(f"{status} {name}: {'accepted' if got else 'rejected'} (expected {'accepted' if ok else 'rejected'})"
              + (f"\n       -> {why}" if why else ""))
    print(f"union size: {len(v.by_type)} event types")
    if bad:
        print(f"FAIL: self-check: {bad} case(s) wrong")
        return 1
    print(f"OK self-check {len(cases)} cases")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", help="e.g. http://127.0.0.1:PORT/v1 (the SDK's base_url; ws:// is derived)")
    p.add_argument("--api-key", default=None, help="default sk-test (an invalid key with --expect-auth-failure)")
    p.add_argument("--model", default="gpt-live-1")
    p.add_argument("--scenario", choices=["turn", "responses"], default="turn",
                   help="turn: spoken turn, client delegation, commands, close; "
                        "responses: Responses delegation with a function tool (needs --audio only)")
    p.add_argument("--audio", help="WAV of the spoken turn (mono PCM16 24 kHz)")
    p.add_argument("--expect-transcript", default="What is the weather like in Paris today?",
                   help="what the input transcript of --audio must read")
    p.add_argument("--delegate-audio", help="WAV of a request the model delegates (mono PCM16 24 kHz)")
    p.add_argument("--cassette", default=None,
                   help="replay engine: cassette to play (sent as ?cassette=NAME via the SDK's extra_query)")
    p.add_argument("--write-wire", metavar="FILE",
                   help="write every frame as JSON lines {t_us, dir, json} (dir c2s, s2c, or s2c-close "
                        "with json {code, reason}), to make a cassette")
    p.add_argument("--timeout", type=float, default=60.0, help="overall timeout in seconds (default 60)")
    p.add_argument("--expect-auth-failure", action="store_true",
                   help="require error{code: invalid_api_key} then close 3000")
    p.add_argument("--self-check", action="store_true", help="test the strict validator offline and exit")
    args = p.parse_args()
    if args.self_check:
        return self_check()
    if not args.base_url:
        p.error("--base-url is required")
    if not args.expect_auth_failure and not args.audio:
        p.error("--audio is required")
    if not args.expect_auth_failure and args.scenario == "turn" and not args.delegate_audio:
        p.error("--delegate-audio is required for the turn")
    label = "auth-failure" if args.expect_auth_failure else args.scenario
    t0 = time.monotonic()
    try:
        return asyncio.run(asyncio.wait_for(run(args), timeout=args.timeout))
    except HarnessFailure as f:
        print(f"FAIL: {label}: {f} ({time.monotonic() - t0:.1f}s)", flush=True)
        return 1
    except asyncio.TimeoutError:
        print(f"FAIL: {label}: timeout after {args.timeout:g}s", flush=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
