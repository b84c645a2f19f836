#!/usr/bin/env python3
"""Drive one Realtime conversation turn with the *unmodified* official `openai`
Python SDK against a mock server, and validate every server event strictly
against the SDK's own pydantic event union.

Run with the harness venv (scripts/python-env.sh prints its python):

    PY=$(scripts/python-env.sh | tail -n1)
    $PY tests/sdk/openai_realtime_turn.py --base-url http://127.0.0.1:PORT/v1 --dialect ga --scenario text
    $PY tests/sdk/openai_realtime_turn.py --base-url ... --dialect beta --scenario audio --audio fixtures/audio/user-weather-24k.wav
    $PY tests/sdk/openai_realtime_turn.py --base-url ... --dialect ga --scenario tool
    $PY tests/sdk/openai_realtime_turn.py --base-url ... --dialect ga --expect-auth-failure
    $PY tests/sdk/openai_realtime_turn.py --base-url ... --dialect ga --scenario overrides
    $PY tests/sdk/openai_realtime_turn.py --base-url ... --dialect beta --expect-beta-disabled
    $PY tests/sdk/openai_realtime_turn.py --base-url ... --dialect ga --cassette openai/ga-history-tool-round-trip \
        --replay-order fixtures/cassettes/openai/ga-history-tool-round-trip.jsonl --pacing one-at-a-time
    $PY tests/sdk/openai_realtime_turn.py --self-check

The beta dialect is retired: today's service (and `understudy serve` by default)
refuses it with error `beta_api_shape_disabled` and close 4000, which
`--expect-beta-disabled` checks; the beta scenarios need `serve --legacy-beta`.

Strictness: each frame is read raw with `connection.recv_bytes()`, json-decoded,
and validated with `pydantic.TypeAdapter(<dialect RealtimeServerEvent union>)`
in strict mode; then the validated model tree is walked and any unknown field
(`model_extra`) fails the run, except a short documented allow-list of fields the
real service sends but the SDK types do not declare (see ALLOWED_EXTRA).
GA: openai.types.realtime.RealtimeServerEvent
beta: openai.types.beta.realtime.RealtimeServerEvent

Output: one `<- <type>` line per server event, `-> <type>` per client event, and
finally `OK <scenario> <dialect> <N> events` (exit 0) or `FAIL: ...` (exit 1).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import sys
import time
import typing
import wave
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import pydantic
from pydantic import TypeAdapter, ValidationError


class HarnessFailure(Exception):
    """A conformance failure (exit 1)."""


def fail(msg: str) -> typing.NoReturn:
    raise HarnessFailure(msg)


# --------------------------------------------------------------------------------------
# Strict validation against the SDK's own event union
# --------------------------------------------------------------------------------------

GA_UNION_PATH = "openai.types.realtime.RealtimeServerEvent"
BETA_UNION_PATH = "openai.types.beta.realtime.RealtimeServerEvent"

# Fields the hosted service sends (and a faithful mock should send) that the SDK's
# *server-event* models do not declare. Keyed by (dialect, event type); values are
# dotted paths without list indices. Everything else in model_extra is a failure.
#  - GA session.created/updated: `session` is typed as RealtimeSessionCreateRequest,
#    which has no id/object/expires_at (those only exist on the REST response model).
#  - beta session.created/updated: beta `Session` declares `id` but not object/expires_at.
_GA_SESSION_EXTRA = {"session.id", "session.object", "session.expires_at"}
_BETA_SESSION_EXTRA = {"session.object", "session.expires_at"}
ALLOWED_EXTRA: Dict[Tuple[str, str], Set[str]] = {
    ("ga", "session.created"): _GA_SESSION_EXTRA,
    ("ga", "session.updated"): _GA_SESSION_EXTRA,
    ("beta", "session.created"): _BETA_SESSION_EXTRA,
    ("beta", "session.updated"): _BETA_SESSION_EXTRA,
}

# Names that are in the GA SDK union for tolerance but that a GA server does not
# emit (GA answers item creation with conversation.item.added + .done).
GA_FORBIDDEN_TYPES = {"conversation.item.created": "beta-only name; a GA server emits conversation.item.added + conversation.item.done"}


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


def _load_union(dialect: str) -> Any:
    if dialect == "ga":
        from openai.types.realtime import RealtimeServerEvent
    else:
        from openai.types.beta.realtime import RealtimeServerEvent
    return RealtimeServerEvent


def _prune_union_errors(errors: List[Any]) -> List[Any]:
    """Nested unions (e.g. conversation items) report one error group per member, tagged
    by the member class name in `loc`. Keep only the member with the fewest errors (the
    one the payload was evidently meant to be)."""
    groups: Dict[Tuple[Any, ...], Dict[str, List[Any]]] = {}
    plain: List[Any] = []
    for e in errors:
        loc = tuple(e.get("loc", ()))
        cut = next((i for i, x in enumerate(loc) if isinstance(x, str) and x[:1].isupper()), None)
        if cut is None:
            plain.append(e)
        else:
            groups.setdefault(loc[:cut], {}).setdefault(loc[cut], []).append(e)
    kept = list(plain)
    for members in groups.values():
        best = min(members.values(), key=len)
        kept.extend(best)
    return kept


def _fmt_errors(exc: ValidationError) -> str:
    errors = _prune_union_errors(exc.errors())
    parts = []
    for e in errors[:8]:
        loc = ".".join(str(x) for x in e.get("loc", ()))
        inp = e.get("input")
        inp_s = json.dumps(inp)[:80] if isinstance(inp, (str, int, float, bool, type(None))) else type(inp).__name__
        parts.append(f"{loc or '<root>'}: {e.get('msg')} (got {inp_s})")
    more = len(errors) - 8
    return "; ".join(parts) + (f"; ... {more} more" if more > 0 else "")


class StrictValidator:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.union_path = GA_UNION_PATH if dialect == "ga" else BETA_UNION_PATH
        union = _load_union(dialect)
        self.adapter = TypeAdapter(union)
        self.by_type: Dict[str, type] = {}
        for cls in _union_members(union):
            t = _type_literal(cls)
            if t in self.by_type:
                raise RuntimeError(f"duplicate type literal {t} in {self.union_path}")
            self.by_type[t] = cls
        other = _load_union("beta" if dialect == "ga" else "ga")
        self.other_types = {_type_literal(c) for c in _union_members(other)}

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
            hint = ""
            if t in self.other_types:
                hint = f" (it is a {'beta' if self.dialect == 'ga' else 'GA'} event name: dialect mix-up)"
            fail(f"event type {t!r} is not in {self.union_path}{hint}")
        if self.dialect == "ga" and t in GA_FORBIDDEN_TYPES:
            fail(f"GA session received {t!r}: {GA_FORBIDDEN_TYPES[t]}")
        try:
            model = self.adapter.validate_python(data, strict=True)
        except ValidationError:
            # Re-validate against the one member with this type literal for a readable message.
            try:
                self.by_type[t].model_validate(data, strict=True)  # type: ignore[attr-defined]
            except ValidationError as e:
                fail(f"{t}: does not validate against {self.by_type[t].__name__} ({self.union_path}): {_fmt_errors(e)}")
            fail(f"{t}: does not validate against {self.union_path}")
        if type(model) is not self.by_type[t]:
            fail(f"{t}: union resolved to {type(model).__name__}, expected {self.by_type[t].__name__}")
        allowed = ALLOWED_EXTRA.get((self.dialect, t), set())
        extras: List[str] = []
        _collect_extras(model, "", "", allowed, extras)
        if extras:
            fail(
                f"{t}: unknown/misnamed field(s) not declared by the SDK model "
                f"{type(model).__name__}: {', '.join(extras)}"
            )
        return data, model


def _collect_extras(obj: Any, path: str, key: str, allowed: Set[str], out: List[str]) -> None:
    """Walk a validated model tree; report model_extra keys. `path` has list indices,
    `key` is the same path without indices (used for the allow-list)."""
    def join(a: str, b: str) -> str:
        return f"{a}.{b}" if a else b

    if isinstance(obj, pydantic.BaseModel):
        for k in (obj.model_extra or {}):
            if join(key, k) not in allowed:
                out.append(join(path, k))
        for name, finfo in type(obj).model_fields.items():
            wire = finfo.alias or name
            _collect_extras(getattr(obj, name, None), join(path, wire), join(key, wire), allowed, out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _collect_extras(v, f"{path}[{i}]", key, allowed, out)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _collect_extras(v, join(path, str(k)), join(key, str(k)), allowed, out)


# --------------------------------------------------------------------------------------
# Dialect-specific names and payloads
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Names:
    audio_delta: str
    audio_done: str
    transcript_delta: str
    transcript_done: str
    text_delta: str
    text_done: str


GA_NAMES = Names(
    "response.output_audio.delta", "response.output_audio.done",
    "response.output_audio_transcript.delta", "response.output_audio_transcript.done",
    "response.output_text.delta", "response.output_text.done",
)
BETA_NAMES = Names(
    "response.audio.delta", "response.audio.done",
    "response.audio_transcript.delta", "response.audio_transcript.done",
    "response.text.delta", "response.text.done",
)

INSTRUCTIONS = "You are a terse assistant used by the Understudy SDK conformance test."

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City name"}},
        "required": ["city"],
    },
}

SERVER_VAD = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "create_response": True,
    "interrupt_response": True,
}


def session_config(dialect: str, scenario: str) -> Dict[str, Any]:
    if dialect == "ga":
        s: Dict[str, Any] = {"type": "realtime", "output_modalities": ["audio"], "instructions": INSTRUCTIONS}
        if scenario == "audio":
            s["audio"] = {
                "input": {"format": {"type": "audio/pcm", "rate": 24000}, "turn_detection": dict(SERVER_VAD)},
                "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"},
            }
    else:
        s = {"modalities": ["text", "audio"], "instructions": INSTRUCTIONS}
        if scenario == "audio":
            s.update(input_audio_format="pcm16", output_audio_format="pcm16", voice="alloy",
                     turn_detection=dict(SERVER_VAD))
    if scenario == "tool":
        s["tools"] = [WEATHER_TOOL]
        s["tool_choice"] = "auto"
    return s


def check_session_effective(dialect: str, scenario: str, ev: Dict[str, Any]) -> None:
    sess = ev.get("session") or {}
    if sess.get("instructions") != INSTRUCTIONS:
        fail(f"session.updated does not reflect the requested instructions: {sess.get('instructions')!r}")
    if dialect == "ga":
        if sess.get("type") != "realtime":
            fail(f"GA session.updated session.type = {sess.get('type')!r}, expected 'realtime'")
        if sess.get("output_modalities") != ["audio"]:
            fail(f"GA session.updated output_modalities = {sess.get('output_modalities')!r}, expected ['audio']")
        td = (((sess.get("audio") or {}).get("input") or {}).get("turn_detection") or {})
    else:
        if sorted(sess.get("modalities") or []) != ["audio", "text"]:
            fail(f"beta session.updated modalities = {sess.get('modalities')!r}, expected ['text','audio']")
        td = sess.get("turn_detection") or {}
    if scenario == "audio" and td.get("type") != "server_vad":
        fail(f"session.updated turn_detection = {td!r}, expected server_vad")
    if scenario == "tool":
        names = [t.get("name") for t in sess.get("tools") or []]
        if "get_weather" not in names:
            fail(f"session.updated tools do not include get_weather: {names}")


# --------------------------------------------------------------------------------------
# Event stream bookkeeping
# --------------------------------------------------------------------------------------

@dataclass
class ResponseRecord:
    id: str
    created_index: int
    events: List[Dict[str, Any]] = field(default_factory=list)
    done: Optional[Dict[str, Any]] = None


class Closed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        rcvd = getattr(exc, "rcvd", None)
        self.code = rcvd.code if rcvd is not None else None
        self.reason = rcvd.reason if rcvd is not None else ""


class Stream:
    """Reads frames in a background task, validates them, tracks responses."""

    def __init__(self, conn: Any, validator: StrictValidator, *, expect_error_first: bool = False) -> None:
        self.conn = conn
        self.validator = validator
        self.dialect = validator.dialect
        self.expect_error_first = expect_error_first
        self.queue: "asyncio.Queue[Any]" = asyncio.Queue()
        self.events: List[Dict[str, Any]] = []
        self.responses: Dict[str, ResponseRecord] = {}
        self.open: Set[str] = set()
        self.waiting_for = "first server event"
        self.task: Optional[asyncio.Task] = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._reader())

    async def stop(self) -> None:
        if self.task and not self.task.done():
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass

    async def _reader(self) -> None:
        from websockets.exceptions import ConnectionClosed
        while True:
            try:
                raw = await self.conn.recv_bytes()
            except ConnectionClosed as e:
                await self.queue.put(Closed(e))
                return
            except Exception as e:  # pragma: no cover - transport errors
                await self.queue.put(HarnessFailure(f"receive failed: {type(e).__name__}: {e}"))
                return
            try:
                data, _model = self.validator.validate(raw)
                # The SDK's own (lenient) parser must agree on the event type.
                sdk_event = self.conn.parse_event(raw)
                if getattr(sdk_event, "type", None) != data["type"]:
                    fail(f"SDK parse_event gave {type(sdk_event).__name__} for {data['type']}")
                print(f"<- {data['type']}", flush=True)
                self._track(data)
            except HarnessFailure as f:
                await self.queue.put(f)
                return
            await self.queue.put(data)

    def _track(self, ev: Dict[str, Any]) -> None:
        t = ev["type"]
        idx = len(self.events)
        self.events.append(ev)
        if idx == 0:
            want = "error" if self.expect_error_first else "session.created"
            if t != want:
                fail(f"first server event must be {want}, got {t}")
        if t == "error" and not self.expect_error_first:
            err = ev.get("error") or {}
            fail(f"server sent error: type={err.get('type')} code={err.get('code')} "
                 f"param={err.get('param')} message={err.get('message')!r}")
        if t == "session.created" and idx != 0:
            fail("session.created sent more than once / not first")
        if t == "response.created":
            r = ev["response"]
            rid = r.get("id")
            if not rid:
                fail("response.created without response.id")
            if rid in self.responses:
                fail(f"response.created repeated for {rid}")
            if r.get("status") != "in_progress":
                fail(f"response.created status = {r.get('status')!r}, expected in_progress")
            self.responses[rid] = ResponseRecord(rid, idx)
            self.open.add(rid)
            return
        if t == "response.done":
            rid = ev["response"].get("id")
            if rid not in self.open:
                fail(f"response.done for {rid!r} which is not an open response (open: {sorted(self.open)})")
            self.open.discard(rid)
            self.responses[rid].done = ev
            self.responses[rid].events.append(ev)
            return
        rid = ev.get("response_id")
        if rid is not None and t.startswith("response."):
            if rid not in self.open:
                state = "already done" if rid in self.responses else "never created"
                fail(f"{t} for response {rid!r} which is {state}")
            self.responses[rid].events.append(ev)

    async def next(self) -> Any:
        item = await self.queue.get()
        if isinstance(item, HarnessFailure):
            raise item
        return item

    async def wait_for(self, what: str, pred: Callable[[Dict[str, Any]], bool]) -> Dict[str, Any]:
        self.waiting_for = what
        while True:
            item = await self.next()
            if isinstance(item, Closed):
                fail(f"connection closed (code={item.code} reason={item.reason!r}) while waiting for {what}")
            if pred(item):
                return item

    async def wait_type(self, t: str) -> Dict[str, Any]:
        return await self.wait_for(t, lambda e: e["type"] == t)

    async def wait_response_done(self, after_index: int = 0) -> ResponseRecord:
        ev = await self.wait_for(
            "response.done",
            lambda e: e["type"] == "response.done"
            and self.responses[e["response"]["id"]].created_index >= after_index,
        )
        return self.responses[ev["response"]["id"]]

    async def drain(self, seconds: float) -> None:
        """After the scenario: keep reading briefly so late frames (e.g. a delta after
        response.done, a stray error, an unsolicited close) are still validated."""
        self.waiting_for = f"(draining {seconds:g}s)"
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            try:
                item = await asyncio.wait_for(self.next(), timeout=left)
            except asyncio.TimeoutError:
                return
            if isinstance(item, Closed):
                fail(f"server closed the connection (code={item.code} reason={item.reason!r}) after the scenario")

    def index_of(self, pred: Callable[[Dict[str, Any]], bool], start: int = 0) -> int:
        for i in range(start, len(self.events)):
            if pred(self.events[i]):
                return i
        return -1

    def summary(self) -> str:
        counts: Dict[str, int] = {}
        for e in self.events:
            counts[e["type"]] = counts.get(e["type"], 0) + 1
        return ", ".join(f"{k}x{v}" if v > 1 else k for k, v in counts.items()) or "(none)"


# --------------------------------------------------------------------------------------
# Response checks
# --------------------------------------------------------------------------------------

def _types(rec: ResponseRecord) -> List[str]:
    return [e["type"] for e in rec.events]


def check_completed(rec: ResponseRecord) -> Dict[str, Any]:
    assert rec.done is not None
    resp = rec.done["response"]
    if resp.get("status") != "completed":
        fail(f"response {rec.id} ended with status {resp.get('status')!r}, details={resp.get('status_details')}")
    if resp.get("usage") is None:
        fail(f"response.done for {rec.id} has no usage")
    return resp


def check_audio_response(rec: ResponseRecord, names: Names) -> str:
    """Require a completed response with one assistant message carrying audio + transcript.
    Returns the transcript."""
    resp = check_completed(rec)
    types = _types(rec)
    for required in ("response.output_item.added", "response.content_part.added", names.audio_delta,
                     names.audio_done, names.transcript_delta, names.transcript_done,
                     "response.content_part.done", "response.output_item.done"):
        if required not in types:
            fail(f"response {rec.id} has no {required} (got: {sorted(set(types))})")
    audio = bytearray()
    transcript_parts: List[str] = []
    transcript_done: Optional[str] = None
    item_id: Optional[str] = None
    for e in rec.events:
        t = e["type"]
        if t == "response.output_item.added" and (e["item"] or {}).get("type") == "message":
            item_id = e["item"].get("id")
            if e["item"].get("role") != "assistant":
                fail(f"output item role {e['item'].get('role')!r}, expected assistant")
        elif t == names.audio_delta:
            try:
                chunk = base64.b64decode(e["delta"], validate=True)
            except (binascii.Error, ValueError) as ex:
                fail(f"{t}.delta is not valid base64: {ex}")
            audio += chunk
            if item_id is not None and e["item_id"] != item_id:
                fail(f"{t}.item_id {e['item_id']!r} != output item {item_id!r}")
        elif t == names.transcript_delta:
            transcript_parts.append(e["delta"])
        elif t == names.transcript_done:
            transcript_done = e["transcript"]
    if item_id is None:
        fail(f"response {rec.id} has no assistant message output item")
    if not audio or len(audio) % 2:
        fail(f"response {rec.id}: audio is {len(audio)} bytes (expected non-empty PCM16, even length)")
    joined = "".join(transcript_parts)
    if transcript_done is not None and joined != transcript_done:
        fail(f"transcript deltas {joined!r} != {names.transcript_done}.transcript {transcript_done!r}")
    if not joined.strip():
        fail(f"response {rec.id}: empty transcript")
    out_ids = [o.get("id") for o in resp.get("output") or []]
    if item_id not in out_ids:
        fail(f"response.done output {out_ids} does not contain the assistant item {item_id}")
    if types.index(names.audio_delta) > types.index(names.audio_done):
        fail(f"{names.audio_done} before first {names.audio_delta}")
    print(f"   response {rec.id}: {len(audio)} audio bytes (~{len(audio) / 48:.0f} ms @24k), transcript {joined!r}",
          flush=True)
    return joined


def check_item_ack(stream: Stream, pred: Callable[[Dict[str, Any]], bool], what: str) -> None:
    """GA: conversation.item.added + conversation.item.done; beta: conversation.item.created."""
    if stream.dialect == "ga":
        a = stream.index_of(lambda e: e["type"] == "conversation.item.added" and pred(e["item"]))
        d = stream.index_of(lambda e: e["type"] == "conversation.item.done" and pred(e["item"]))
        if a < 0 or d < 0:
            fail(f"no conversation.item.added + conversation.item.done for {what}")
        if d < a:
            fail(f"conversation.item.done before conversation.item.added for {what}")
    else:
        if stream.index_of(lambda e: e["type"] == "conversation.item.created" and pred(e["item"])) < 0:
            fail(f"no conversation.item.created for {what}")


def _is_user_text(text: str) -> Callable[[Dict[str, Any]], bool]:
    def pred(item: Dict[str, Any]) -> bool:
        content = item.get("content") or []
        return item.get("type") == "message" and item.get("role") == "user" and any(
            c.get("text") == text for c in content)
    return pred


# --------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------

def _sent(t: str) -> None:
    print(f"-> {t}", flush=True)


async def _open_session(conn: Any, stream: Stream, dialect: str, scenario: str) -> None:
    await stream.wait_type("session.created")
    _sent("session.update")
    await conn.session.update(session=session_config(dialect, scenario))
    upd = await stream.wait_type("session.updated")
    check_session_effective(dialect, scenario, upd)


async def _user_text(conn: Any, text: str) -> None:
    _sent("conversation.item.create")
    await conn.conversation.item.create(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})


async def scenario_text(conn: Any, stream: Stream, dialect: str, names: Names, args: argparse.Namespace) -> None:
    await _open_session(conn, stream, dialect, "text")
    text = "Say hello to the Understudy conformance test."
    await _user_text(conn, text)
    _sent("response.create")
    await conn.response.create()
    rec = await stream.wait_response_done()
    check_audio_response(rec, names)
    check_item_ack(stream, _is_user_text(text), "the user text item")


async def scenario_audio(conn: Any, stream: Stream, dialect: str, names: Names, args: argparse.Namespace) -> None:
    if not args.audio:
        fail("--scenario audio needs --audio PATH.wav (24 kHz mono PCM16)")
    with wave.open(args.audio, "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, 24000):
            fail(f"{args.audio}: need mono 16-bit 24000 Hz, got {w.getnchannels()} ch, "
                 f"{8 * w.getsampwidth()} bit, {w.getframerate()} Hz")
        pcm = w.readframes(w.getnframes())
    await _open_session(conn, stream, dialect, "audio")
    chunk = 4800  # 100 ms of 24 kHz PCM16
    pcm += bytes(24000 * 2)  # + 1 s of silence so the VAD surely sees the end of speech
    n = 0
    _sent(f"input_audio_buffer.append ... (streaming {args.audio} + 1 s silence, 100 ms chunks every 20 ms)")
    for off in range(0, len(pcm), chunk):
        await conn.input_audio_buffer.append(audio=base64.b64encode(pcm[off:off + chunk]).decode("ascii"))
        n += 1
        await asyncio.sleep(0.02)
    total_ms = len(pcm) // 48
    print(f"   appended {n} chunks ({total_ms} ms of audio)", flush=True)
    stream.waiting_for = "input_audio_buffer.speech_started"
    started = await stream.wait_type("input_audio_buffer.speech_started")
    stopped = await stream.wait_type("input_audio_buffer.speech_stopped")
    committed = await stream.wait_type("input_audio_buffer.committed")
    item_id = started["item_id"]
    if stopped["item_id"] != item_id or committed["item_id"] != item_id:
        fail(f"VAD item ids differ: started={item_id} stopped={stopped['item_id']} committed={committed['item_id']}")
    if not (0 <= started["audio_start_ms"] < stopped["audio_end_ms"] <= total_ms + 50):
        fail(f"implausible VAD times: audio_start_ms={started['audio_start_ms']} "
             f"audio_end_ms={stopped['audio_end_ms']} (appended {total_ms} ms)")
    ci = stream.index_of(lambda e: e["type"] == "input_audio_buffer.committed")
    rec = await stream.wait_response_done(after_index=ci)
    check_audio_response(rec, names)
    check_item_ack(stream, lambda it: it.get("id") == item_id, f"the committed user audio item {item_id}")
    print(f"   VAD: speech {started['audio_start_ms']}..{stopped['audio_end_ms']} ms, item {item_id}", flush=True)


async def scenario_tool(conn: Any, stream: Stream, dialect: str, names: Names, args: argparse.Namespace) -> None:
    await _open_session(conn, stream, dialect, "tool")
    await _user_text(conn, "What is the weather in Paris?")
    _sent("response.create")
    await conn.response.create()
    rec1 = await stream.wait_response_done()
    resp1 = check_completed(rec1)
    done = [e for e in rec1.events if e["type"] == "response.function_call_arguments.done"]
    if not done:
        fail(f"first response {rec1.id} has no response.function_call_arguments.done (got {sorted(set(_types(rec1)))})")
    fc = done[0]
    call_id, arguments = fc["call_id"], fc["arguments"]
    if not call_id:
        fail("function_call_arguments.done has empty call_id")
    try:
        parsed = json.loads(arguments)
    except ValueError as e:
        fail(f"function call arguments are not JSON ({e}): {arguments!r}")
    if not isinstance(parsed, dict) or not isinstance(parsed.get("city"), str):
        fail(f"function call arguments should be an object with a string 'city': {arguments!r}")
    if dialect == "ga" and fc.get("name") != "get_weather":
        fail(f"function_call_arguments.done.name = {fc.get('name')!r}, expected get_weather")
    deltas = [e["delta"] for e in rec1.events
              if e["type"] == "response.function_call_arguments.delta" and e["call_id"] == call_id]
    if deltas and "".join(deltas) != arguments:
        fail(f"argument deltas {''.join(deltas)!r} != arguments {arguments!r}")
    added = [e for e in rec1.events if e["type"] == "response.output_item.added"
             and (e["item"] or {}).get("type") == "function_call"]
    if not added or added[0]["item"].get("call_id") != call_id or added[0]["item"].get("name") != "get_weather":
        fail(f"no response.output_item.added with a get_weather function_call item for call_id {call_id}")
    outs = [o for o in resp1.get("output") or [] if o.get("type") == "function_call" and o.get("call_id") == call_id]
    if not outs or outs[0].get("arguments") != arguments or outs[0].get("name") != "get_weather":
        fail(f"response.done output lacks the function_call item for {call_id} with the same name/arguments")
    print(f"   function call {call_id}: get_weather({arguments})", flush=True)

    _sent("conversation.item.create (function_call_output)")
    await conn.conversation.item.create(item={
        "type": "function_call_output", "call_id": call_id,
        "output": json.dumps({"city": parsed["city"], "temperature_c": 18, "conditions": "sunny"})})
    _sent("response.create")
    await conn.response.create()
    rec2 = await stream.wait_response_done(after_index=rec1.created_index + 1)
    check_audio_response(rec2, names)
    check_item_ack(stream, lambda it: it.get("type") == "function_call_output" and it.get("call_id") == call_id,
                   f"the function_call_output for {call_id}")


async def scenario_auth_failure(conn: Any, stream: Stream, dialect: str) -> None:
    ev = await stream.wait_for("error", lambda e: True)
    err = ev.get("error") or {}
    if ev["type"] != "error" or err.get("code") != "invalid_api_key":
        fail(f"expected an error event with code invalid_api_key, got {ev['type']} {err}")
    stream.waiting_for = "close 3000"
    item = await stream.next()
    if not isinstance(item, Closed):
        fail(f"expected the server to close after invalid_api_key, got event {item['type']}")
    if item.code != 3000:
        fail(f"expected close code 3000 after invalid_api_key, got {item.code} (reason {item.reason!r})")
    print(f"   closed with {item.code} {item.reason!r}", flush=True)


async def scenario_beta_disabled(conn: Any, stream: Stream, dialect: str) -> None:
    """The retired beta: error beta_api_shape_disabled as the first frame, then close 4000."""
    ev = await stream.wait_for("error", lambda e: True)
    err = ev.get("error") or {}
    if ev["type"] != "error" or err.get("code") != "beta_api_shape_disabled":
        fail(f"expected an error event with code beta_api_shape_disabled, got {ev['type']} {err}")
    if err.get("type") != "invalid_request_error":
        fail(f"beta_api_shape_disabled error type = {err.get('type')!r}, expected invalid_request_error")
    want = "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API."
    if err.get("message") != want:
        fail(f"beta_api_shape_disabled message = {err.get('message')!r}, expected {want!r}")
    stream.waiting_for = "close 4000"
    item = await stream.next()
    if not isinstance(item, Closed):
        fail(f"expected the server to close after beta_api_shape_disabled, got event {item['type']}")
    if (item.code, item.reason) != (4000, "invalid_request_error.beta_api_shape_disabled"):
        fail(f"expected close 4000 invalid_request_error.beta_api_shape_disabled, got {item.code} {item.reason!r}")
    print(f"   closed with {item.code} {item.reason!r}", flush=True)


def _check_reported(what: str, dialect: str, r: Dict[str, Any], want: Dict[str, Any]) -> None:
    """A response object (response.created / response.done) reports the overrides."""
    for key, value in want.items():
        got: Any = r
        for part in key.split("."):
            got = got.get(part) if isinstance(got, dict) else None
        if got != value:
            fail(f"{dialect} {what}.response.{key} = {got!r}, expected the override {value!r}")


async def scenario_overrides(conn: Any, stream: Stream, dialect: str, names: Names, args: argparse.Namespace) -> None:
    """response.create overrides (as livekit-agents sends them) are honoured and reported in
    response.created and response.done; conversation "none" stays out of the conversation."""
    await _open_session(conn, stream, dialect, "text")
    await _user_text(conn, "Tell me about the sea.")
    meta = {"client_event_id": "response_create_understudy_1"}
    if dialect == "ga":
        params: Dict[str, Any] = {"metadata": meta, "output_modalities": ["text"], "instructions": "Be terse.",
                                  "max_output_tokens": 400, "audio": {"output": {"voice": "coral"}}}
        want = {"metadata": meta, "output_modalities": ["text"], "max_output_tokens": 400,
                "audio.output.voice": "coral"}
    else:
        params = {"metadata": meta, "modalities": ["text"], "instructions": "Be terse.",
                  "max_response_output_tokens": 400, "voice": "verse", "temperature": 0.7}
        want = {"metadata": meta, "modalities": ["text"], "max_output_tokens": 400, "voice": "verse",
                "temperature": 0.7}
    _sent("response.create (overrides)")
    await conn.response.create(response=params)
    rec = await stream.wait_response_done()
    check_completed(rec)
    created = stream.events[rec.created_index]["response"]
    assert rec.done is not None
    for what, r in (("response.created", created), ("response.done", rec.done["response"])):
        _check_reported(what, dialect, r, want)
        if not isinstance(r.get("conversation_id"), str):
            fail(f"{what}.response.conversation_id = {r.get('conversation_id')!r}, expected the conversation's id")
    types = _types(rec)
    if names.text_done not in types or names.audio_delta in types:
        fail(f"a text-only response should stream text, not audio (got {sorted(set(types))})")

    _sent("response.create (conversation: none)")
    oob_meta = {"purpose": "out-of-band"}
    await conn.response.create(response={"conversation": "none", "metadata": oob_meta})
    rec2 = await stream.wait_response_done(after_index=rec.created_index + 1)
    check_completed(rec2)
    assert rec2.done is not None
    created2 = stream.events[rec2.created_index]["response"]
    for what, r in (("response.created", created2), ("response.done", rec2.done["response"])):
        if "conversation_id" not in r or r["conversation_id"] is not None:
            fail(f"out-of-band {what}.response.conversation_id = {r.get('conversation_id')!r}, expected null")
        _check_reported(what, dialect, r, {"metadata": oob_meta})
    out_ids = {o.get("id") for o in rec2.done["response"].get("output") or []}
    acks = {"conversation.item.added", "conversation.item.done", "conversation.item.created"}
    for e in stream.events[rec2.created_index:]:
        if e["type"] in acks and (e.get("item") or {}).get("id") in out_ids:
            fail(f"out-of-band output {e['item'].get('id')} was added to the conversation ({e['type']})")
    print(f"   overrides reported; out-of-band response {rec2.id} kept out of the conversation", flush=True)


SCENARIOS = {"text": scenario_text, "audio": scenario_audio, "tool": scenario_tool, "overrides": scenario_overrides}


# --------------------------------------------------------------------------------------
# --replay-order: the cassette's own client frames, pipelined or one at a time
# --------------------------------------------------------------------------------------

def load_cassette(path: str) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """The JSON client frames and JSON server frames of a cassette file, in recorded
    order, audio restored from its sidecars."""
    from cassette_file import read_json_frames
    frames = read_json_frames(path)
    return ([p for _, d, p in frames if d == "c2s"], [p for _, d, p in frames if d != "c2s"])


async def scenario_replay_order(conn: Any, stream: Stream, args: argparse.Namespace) -> None:
    """Sends the cassette's client frames through the SDK (all at once, or each after the
    answers to the previous one have stopped coming) and requires every recorded server
    frame, identical and in recorded order, and nothing else."""
    client, server = load_cassette(args.replay_order)
    quiet = args.quiet_ms / 1000.0

    async def settle() -> None:
        stream.waiting_for = f"quiet for {args.quiet_ms:g} ms"
        while True:
            try:
                item = await asyncio.wait_for(stream.next(), timeout=quiet)
            except asyncio.TimeoutError:
                return
            if isinstance(item, Closed):
                fail(f"connection closed (code={item.code} reason={item.reason!r}) mid-replay")

    if args.pacing == "one-at-a-time":
        await settle()
    for i, frame in enumerate(client):
        await conn.send(frame)
        print(f"-> {frame.get('type')}", flush=True)
        if args.pacing == "one-at-a-time":
            await settle()
    while len(stream.events) < len(server):
        stream.waiting_for = f"recorded frame {len(stream.events) + 1} of {len(server)} ({server[len(stream.events)].get('type')})"
        item = await stream.next()
        if isinstance(item, Closed):
            fail(f"connection closed (code={item.code} reason={item.reason!r}) after {len(stream.events)} of {len(server)} frames")
    await stream.drain(args.drain_ms / 1000.0)
    got = stream.events
    for i, (have, want) in enumerate(zip(got, server)):
        if have != want:
            fail(f"server frame {i + 1}: expected {want.get('type')} {want.get('event_id')}, "
                 f"got {have.get('type')} {have.get('event_id')} "
                 f"(recorded order: {[e.get('event_id') for e in server[max(0, i - 2):i + 3]]}, "
                 f"received: {[e.get('event_id') for e in got[max(0, i - 2):i + 3]]})")
    if len(got) != len(server):
        fail(f"received {len(got)} server frames, the cassette has {len(server)}")


async def run(args: argparse.Namespace) -> int:
    from openai import AsyncOpenAI

    ws_base = args.websocket_base_url
    if not ws_base:
        if args.base_url.startswith("http://"):
            ws_base = "ws://" + args.base_url[len("http://"):]
        elif args.base_url.startswith("https://"):
            ws_base = "wss://" + args.base_url[len("https://"):]
        else:
            ws_base = args.base_url
    api_key = args.api_key
    if args.expect_auth_failure and api_key is None:
        api_key = "understudy-invalid-key"
    if args.expect_beta_disabled and args.dialect != "beta":
        fail("--expect-beta-disabled needs --dialect beta")
    client = AsyncOpenAI(api_key=api_key or "sk-test", base_url=args.base_url, websocket_base_url=ws_base,
                         max_retries=0)
    validator = StrictValidator(args.dialect)
    names = GA_NAMES if args.dialect == "ga" else BETA_NAMES
    # The SDK's own extra_query is how a client selects a cassette on a replaying mock.
    extra = {"extra_query": {"cassette": args.cassette}} if args.cassette else {}
    if args.dialect == "ga":
        manager = client.realtime.connect(model=args.model or "gpt-realtime", **extra)
    else:
        manager = client.beta.realtime.connect(model=args.model or "gpt-4o-realtime-preview", **extra)
    label = run_label(args)

    stream: Optional[Stream] = None
    try:
        try:
            conn = await manager.__aenter__()
        except Exception as e:
            fail(f"WebSocket connect to {ws_base}/realtime failed: {type(e).__name__}: {e}")
        try:
            stream = Stream(conn, validator,
                            expect_error_first=args.expect_auth_failure or args.expect_beta_disabled)
            stream.start()
            if args.expect_auth_failure:
                await scenario_auth_failure(conn, stream, args.dialect)
            elif args.expect_beta_disabled:
                await scenario_beta_disabled(conn, stream, args.dialect)
            elif args.replay_order:
                await scenario_replay_order(conn, stream, args)
            else:
                await SCENARIOS[args.scenario](conn, stream, args.dialect, names, args)
                await stream.drain(args.drain_ms / 1000.0)
        finally:
            if stream is not None:
                await stream.stop()
            try:
                await manager.__aexit__(None, None, None)
            except Exception:
                pass
    except asyncio.CancelledError:
        what = stream.waiting_for if stream else "connection"
        seen = stream.summary() if stream else "(none)"
        raise HarnessFailure(f"timeout after {args.timeout:g}s waiting for {what}; events so far: {seen}")
    print(f"OK {label} {args.dialect} {len(stream.events) if stream else 0} events", flush=True)
    return 0


# --------------------------------------------------------------------------------------
# --self-check: validator tests without a server (samples of documented server events)
# --------------------------------------------------------------------------------------

GA_SESSION_CREATED = {
    "type": "session.created", "event_id": "event_7Qm2c",
    "session": {
        "type": "realtime", "object": "realtime.session", "id": "sess_9Xp0a", "model": "gpt-realtime",
        "expires_at": 1767225600, "output_modalities": ["audio"], "instructions": "", "tools": [],
        "tool_choice": "auto", "max_output_tokens": "inf", "tracing": None, "prompt": None, "include": None,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000}, "transcription": None, "noise_reduction": None,
                "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                                   "silence_duration_ms": 200, "idle_timeout_ms": None,
                                   "create_response": True, "interrupt_response": True},
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy", "speed": 1.0},
        },
    },
}
BETA_SESSION_CREATED = {
    "type": "session.created", "event_id": "event_A1b2",
    "session": {
        "id": "sess_A1b2", "object": "realtime.session", "model": "gpt-4o-realtime-preview",
        "expires_at": 1767225600, "modalities": ["text", "audio"], "instructions": "", "voice": "alloy",
        "input_audio_format": "pcm16", "output_audio_format": "pcm16", "input_audio_transcription": None,
        "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                           "silence_duration_ms": 200},
        "tools": [], "tool_choice": "auto", "temperature": 0.8, "max_response_output_tokens": "inf",
    },
}
_SCOPED = {"response_id": "resp_Lx9", "item_id": "item_Zr81", "output_index": 0, "content_index": 0}
GA_AUDIO_DELTA = {"type": "response.output_audio.delta", "event_id": "event_D1", **_SCOPED, "delta": "AAAB/wIA"}
BETA_AUDIO_DELTA = {"type": "response.audio.delta", "event_id": "event_D1", **_SCOPED, "delta": "AAAB/wIA"}
GA_RESPONSE_DONE = {
    "type": "response.done", "event_id": "event_R9",
    "response": {
        "id": "resp_Lx9", "object": "realtime.response", "status": "completed", "status_details": None,
        "conversation_id": "conv_Q1", "output_modalities": ["audio"],
        "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}},
        "max_output_tokens": "inf", "metadata": None,
        "output": [{"id": "item_Zr81", "object": "realtime.item", "type": "message", "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_audio", "transcript": "Your order shipped yesterday."}]}],
        "usage": {"total_tokens": 412, "input_tokens": 300, "output_tokens": 112,
                  "input_token_details": {"text_tokens": 120, "audio_tokens": 180, "cached_tokens": 0,
                                          "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0}},
                  "output_token_details": {"text_tokens": 25, "audio_tokens": 87}},
    },
}
BETA_RESPONSE_DONE = {
    "type": "response.done", "event_id": "event_R9",
    "response": {
        "id": "resp_Lx9", "object": "realtime.response", "status": "completed", "status_details": None,
        "conversation_id": "conv_Q1", "modalities": ["text", "audio"], "voice": "alloy",
        "output_audio_format": "pcm16", "temperature": 0.8, "max_output_tokens": "inf", "metadata": None,
        "output": [{"id": "item_Zr81", "object": "realtime.item", "type": "message", "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "audio", "transcript": "Your order shipped yesterday."}]}],
        "usage": {"total_tokens": 412, "input_tokens": 300, "output_tokens": 112,
                  "input_token_details": {"text_tokens": 120, "audio_tokens": 180, "cached_tokens": 0},
                  "output_token_details": {"text_tokens": 25, "audio_tokens": 87}},
    },
}
GA_FN_ARGS_DONE = {"type": "response.function_call_arguments.done", "event_id": "event_F2",
                   "response_id": "resp_1", "item_id": "item_F1", "output_index": 0, "call_id": "call_4fT2",
                   "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}
GA_ERROR = {"type": "error", "event_id": "event_E1",
            "error": {"type": "invalid_request_error", "code": "invalid_api_key",
                      "message": "Incorrect API key provided.", "param": None, "event_id": None}}


def _without(d: Dict[str, Any], key: str) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


def _deep_set(d: Dict[str, Any], path: str, value: Any) -> Dict[str, Any]:
    out = json.loads(json.dumps(d))
    cur = out
    keys = path.split(".")
    for k in keys[:-1]:
        cur = cur[int(k)] if isinstance(cur, list) else cur[k]
    cur[keys[-1]] = value
    return out


def self_check() -> int:
    ga, beta = StrictValidator("ga"), StrictValidator("beta")
    fn_beta = _without(GA_FN_ARGS_DONE, "name")
    cases: List[Tuple[str, StrictValidator, Dict[str, Any], bool]] = [
        ("GA session.created (protocol §3.1 example)", ga, GA_SESSION_CREATED, True),
        ("GA response.output_audio.delta", ga, GA_AUDIO_DELTA, True),
        ("GA response.done (protocol §6.2 example)", ga, GA_RESPONSE_DONE, True),
        ("GA response.function_call_arguments.done", ga, GA_FN_ARGS_DONE, True),
        ("GA error invalid_api_key", ga, GA_ERROR, True),
        ("beta session.created (protocol §3.2 example)", beta, BETA_SESSION_CREATED, True),
        ("beta response.audio.delta", beta, BETA_AUDIO_DELTA, True),
        ("beta response.done", beta, BETA_RESPONSE_DONE, True),
        ("beta response.function_call_arguments.done (no name)", beta, fn_beta, True),
        # --- must be rejected ---
        ("GA audio delta missing response_id", ga, _without(GA_AUDIO_DELTA, "response_id"), False),
        ("GA audio delta missing event_id", ga, _without(GA_AUDIO_DELTA, "event_id"), False),
        ("GA audio delta with misnamed field responseId", ga,
         {**_without(GA_AUDIO_DELTA, "response_id"), "responseId": "resp_Lx9"}, False),
        ("GA audio delta with extra field", ga, {**GA_AUDIO_DELTA, "audio": "AAAA"}, False),
        ("GA audio delta output_index as string", ga, {**GA_AUDIO_DELTA, "output_index": "0"}, False),
        ("beta-named response.audio.delta on a GA session", ga, BETA_AUDIO_DELTA, False),
        ("GA-named response.output_audio.delta on a beta session", beta, GA_AUDIO_DELTA, False),
        ("conversation.item.created on a GA session", ga,
         {"type": "conversation.item.created", "event_id": "e", "previous_item_id": None,
          "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}}, False),
        ("beta flat field session.voice in GA session.created", ga,
         _deep_set(GA_SESSION_CREATED, "session.voice", "alloy"), False),
        ("misnamed nested turn_detection.silence_ms in GA session", ga,
         _deep_set(GA_SESSION_CREATED, "session.audio.input.turn_detection.silence_ms", 200), False),
        ("GA session.created with beta modalities field", ga,
         _deep_set(GA_SESSION_CREATED, "session.modalities", ["text", "audio"]), False),
        ("GA response.done assistant part typed beta 'audio'", ga,
         _deep_set(GA_RESPONSE_DONE, "response.output.0.content.0.type", "audio"), False),
        ("GA response.done with unknown usage field", ga,
         _deep_set(GA_RESPONSE_DONE, "response.usage.audio_seconds", 3), False),
        ("beta function_call_arguments.done with GA-only name", beta, GA_FN_ARGS_DONE, False),
        ("beta session.created with GA output_modalities", beta,
         _deep_set(BETA_SESSION_CREATED, "session.output_modalities", ["audio"]), False),
        ("error event without error.message", ga, _deep_set(GA_ERROR, "error", {"type": "x"}), False),
        ("frame that is not JSON", ga, "not json", False),  # type: ignore[list-item]
    ]
    bad = 0
    for name, v, ev, ok in cases:
        raw = ev if isinstance(ev, str) else json.dumps(ev)
        try:
            v.validate(raw)
            got, why = True, ""
        except HarnessFailure as f:
            got, why = False, str(f)
        status = "PASS" if got == ok else "FAIL"
        bad += status == "FAIL"
        expect = "accepted" if ok else "rejected"
        print(f"{status} [{v.dialect:4}] {name}: {'accepted' if got else 'rejected'} (expected {expect})"
              + (f"\n       -> {why}" if why else ""))
    print(f"union sizes: GA {len(ga.by_type)} event types, beta {len(beta.by_type)} event types")
    if bad:
        print(f"FAIL: self-check: {bad} case(s) wrong")
        return 1
    print(f"OK self-check {len(cases)} cases")
    return 0


# --------------------------------------------------------------------------------------

def run_label(args: argparse.Namespace) -> str:
    if args.expect_auth_failure:
        return "auth-failure"
    if args.expect_beta_disabled:
        return "beta-disabled"
    if args.replay_order:
        return f"replay-{args.pacing}"
    return args.scenario


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", help="e.g. http://127.0.0.1:PORT/v1")
    p.add_argument("--websocket-base-url", help="default: --base-url with http->ws / https->wss")
    p.add_argument("--dialect", choices=["ga", "beta"], default="ga")
    p.add_argument("--api-key", default=None, help="default sk-test (or an invalid key with --expect-auth-failure)")
    p.add_argument("--model", default=None, help="default gpt-realtime (GA) / gpt-4o-realtime-preview (beta)")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="text")
    p.add_argument("--cassette", default=None,
                   help="replay engine: cassette to play (sent as ?cassette=NAME via the SDK's extra_query)")
    p.add_argument("--audio", help="WAV for --scenario audio (mono PCM16 24 kHz)")
    p.add_argument("--timeout", type=float, default=20.0, help="overall timeout in seconds (default 20)")
    p.add_argument("--drain-ms", type=float, default=300.0,
                   help="after success keep validating late frames for this long (default 300)")
    p.add_argument("--expect-auth-failure", action="store_true",
                   help="require error{code: invalid_api_key} then close code 3000")
    p.add_argument("--expect-beta-disabled", action="store_true",
                   help="beta: require error{code: beta_api_shape_disabled} first, then close 4000 (the retired beta)")
    p.add_argument("--self-check", action="store_true", help="test the strict validator offline and exit")
    p.add_argument("--replay-order", metavar="CASSETTE_FILE",
                   help="send this cassette's client frames (with --cassette naming it on a replaying mock) "
                        "and require its server frames, identical and in recorded order")
    p.add_argument("--pacing", choices=["pipelined", "one-at-a-time"], default="pipelined",
                   help="--replay-order: send every frame at once, or each once the server has been quiet "
                        "for --quiet-ms")
    p.add_argument("--quiet-ms", type=float, default=400.0,
                   help="--replay-order one-at-a-time: silence that ends the answers to one frame (default 400)")
    args = p.parse_args()

    if args.self_check:
        return self_check()
    if not args.base_url:
        p.error("--base-url is required")

    label = run_label(args)
    t0 = time.monotonic()
    try:
        return asyncio.run(asyncio.wait_for(run(args), timeout=args.timeout))
    except HarnessFailure as f:
        print(f"FAIL: {label} {args.dialect}: {f} ({time.monotonic() - t0:.1f}s)", flush=True)
        return 1
    except asyncio.TimeoutError:
        print(f"FAIL: {label} {args.dialect}: timeout after {args.timeout:g}s", flush=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
