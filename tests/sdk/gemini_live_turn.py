#!/usr/bin/env python3
"""Drive one Gemini Live turn with the *unmodified* official `google-genai` Python
SDK (`client.aio.live.connect(...)`) against a mock server over TLS, and validate
every raw server frame strictly (the Live API's BidiGenerateContent messages).

Run with the harness venv (scripts/python-env.sh prints its python):

    PY=$(scripts/python-env.sh | tail -n1)
    $PY tests/sdk/gemini_live_turn.py --base-url https://127.0.0.1:PORT --ca-file mock-ca.pem --scenario audio
    $PY tests/sdk/gemini_live_turn.py --base-url https://127.0.0.1:PORT --ca-file mock-ca.pem --scenario text \
        --header X-Understudy-Cassette=weather
    $PY tests/sdk/gemini_live_turn.py --base-url https://127.0.0.1:PORT --ca-file mock-ca.pem \
        --header X-Understudy-Cassette=gemini/tool-round-trip \
        --replay-order fixtures/cassettes/gemini/tool-round-trip.jsonl --pacing pipelined
    $PY tests/sdk/gemini_live_turn.py --self-check

TLS: google-genai always rewrites the live URL scheme to wss://, so the mock must
serve TLS. --ca-file sets SSL_CERT_FILE *before* genai.Client is built (the SDK
builds its websocket SSLContext from SSL_CERT_FILE, else certifi, in the Client
constructor); the harness then checks that the SDK's context really holds the
certificate(s) from that file.

Raw frames without touching the SDK: the SDK passes `http_options.async_client_args`
keys that are parameters of `websockets.asyncio.client.connect` on to it (and drops
them for httpx/aiohttp), so the harness hands it `create_connection=<ClientConnection
subclass>`. The subclass's recv() reads each message with decode=None (str = text
frame, bytes = binary frame), records and validates it, then returns it in the form
the SDK asked for. That covers the setupComplete frame the SDK consumes inside
connect(). If a future SDK stops forwarding it, the harness falls back to wrapping
`session._ws.recv` after connect (setupComplete is then not captured) and says so.

Strictness, per raw server frame:
  - a JSON object with exactly one top-level key out of setupComplete, serverContent,
    toolCall, toolCallCancellation, goAway, sessionResumptionUpdate (plus the newer
    voiceActivityDetectionSignal / voiceActivity that the SDK model declares),
    optionally with a sibling usageMetadata; snake_case or unknown top-level keys fail;
  - `types.LiveServerMessage.model_validate_json(raw, by_alias=True, by_name=False)`:
    the SDK models are `extra='forbid'` (checked at startup), so unknown fields fail,
    and by_name=False makes snake_case spellings of nested fields fail too (the SDK
    itself parses nested fields leniently, the hosted service sends camelCase);
  - modelTurn inlineData: mimeType audio/pcm;rate=24000, data standard padded base64
    of an even, non-zero number of bytes;
  - sessionResumptionUpdate with resumable=true must carry a non-empty newHandle;
  - the first frame is setupComplete and it never repeats;
  - the SDK's own parse of each frame (the LiveServerMessage it yields) must agree
    with the strict parse (same fields, same values).
Frame opcodes (binary/text) are recorded and printed; both are accepted (the hosted
service sends binary).

Output: `-> ...` per client send, `<- #i binary|text <keys>` per server frame, then
`OK audio|text <N> messages` (exit 0) or `FAIL: ...` (exit 1). N counts all server
frames including setupComplete and frames read while draining after turnComplete.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import os
import re
import ssl
import sys
import time
import types as _pytypes
import typing
import wave
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_AUDIO = os.path.join(REPO_ROOT, "fixtures", "audio", "user-weather-16k.wav")
DEFAULT_MODEL = "gemini-live-2.5-flash-preview"
DEFAULT_API_KEY = "understudy-test-key"  # deliberately not shaped like a Google key (AIza...)
TEXT_PROMPT = "What is the weather like in Paris today?"

# Top-level server keys: exactly one of these, plus optionally USAGE_KEY.
PRIMARY_KEYS = ("setupComplete", "serverContent", "toolCall", "toolCallCancellation", "goAway",
                "sessionResumptionUpdate", "voiceActivityDetectionSignal", "voiceActivity")
USAGE_KEY = "usageMetadata"
OUTPUT_RATE = 24000
INPUT_RATE = 16000


class HarnessFailure(Exception):
    """A conformance failure (exit 1)."""


def fail(msg: str) -> typing.NoReturn:
    raise HarnessFailure(msg)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# --------------------------------------------------------------------------------------
# Strict raw-frame validation
# --------------------------------------------------------------------------------------

def _fmt_errors(exc: Exception) -> str:
    errs = getattr(exc, "errors", None)
    if not callable(errs):
        return str(exc)
    parts = []
    items = errs()
    for e in items[:6]:
        loc = ".".join(str(x) for x in e.get("loc", ()))
        inp = e.get("input")
        inp_s = json.dumps(inp)[:60] if isinstance(inp, (str, int, float, bool, type(None))) else type(inp).__name__
        parts.append(f"{loc or '<root>'}: {e.get('msg')} (got {inp_s})")
    if len(items) > 6:
        parts.append(f"... {len(items) - 6} more")
    return "; ".join(parts)


def _parse_mime(mime: str) -> Tuple[str, Dict[str, str]]:
    bits = [b.strip() for b in mime.split(";")]
    params: Dict[str, str] = {}
    for b in bits[1:]:
        k, _, v = b.partition("=")
        params[k.strip().lower()] = v.strip()
    return bits[0].lower(), params


def check_output_audio_mime(mime: Any, where: str) -> None:
    if not isinstance(mime, str):
        fail(f"{where}: mimeType missing or not a string: {mime!r}")
    base, params = _parse_mime(mime)
    if base != "audio/pcm" or params.get("rate") != str(OUTPUT_RATE):
        fail(f"{where}: mimeType {mime!r}, expected 'audio/pcm;rate={OUTPUT_RATE}'")


_INT_RE = re.compile(r"^-?[0-9]+$")


def _walk(value: Any, ann: Any, path: str) -> Any:
    """Check a raw JSON value against an SDK annotation, key by key: every object key must
    be the camelCase alias of a declared field (the SDK's Part has a custom __init__ that
    accepts snake_case even under by_name=False, so pydantic alone is not enough), no
    nulls, JSON types must match (bool/int/float/str/enum). Returns a normalised copy
    (proto3-JSON int64-as-string values become ints) for strict pydantic validation."""
    import enum

    import pydantic
    where = path or "<frame>"
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _walk(value, typing.get_args(ann)[0], path)
    if origin is typing.Union or origin is _pytypes.UnionType:
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if value is None:
            fail(f"{where}: null (omit the field instead)")
        if len(args) == 1:
            return _walk(value, args[0], path)
        return value  # genuine multi-type union: leave to pydantic
    if value is None:
        fail(f"{where}: null (omit the field instead)")
    if ann is typing.Any or isinstance(ann, (str, typing.ForwardRef)):
        return value
    if isinstance(ann, type) and issubclass(ann, pydantic.BaseModel):
        if not isinstance(value, dict):
            fail(f"{where}: expected a JSON object ({ann.__name__}), got {type(value).__name__}")
        by_alias = {(f.alias or n): (n, f) for n, f in ann.model_fields.items()}
        out = {}
        for k, v in value.items():
            if k not in by_alias:
                hint = ""
                if k in ann.model_fields:
                    hint = f" (snake_case; the wire spelling is {ann.model_fields[k].alias!r})"
                fail(f"{path + '.' if path else ''}{k}: not a field of {ann.__name__}{hint}")
            out[k] = _walk(v, by_alias[k][1].annotation, f"{path + '.' if path else ''}{k}")
        return out
    if origin in (list, typing.List) or ann is list:
        if not isinstance(value, list):
            fail(f"{where}: expected a JSON array, got {type(value).__name__}")
        args = typing.get_args(ann)
        return [_walk(v, args[0] if args else typing.Any, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, typing.Dict) or ann is dict:
        if not isinstance(value, dict):
            fail(f"{where}: expected a JSON object, got {type(value).__name__}")
        return value  # free-form (e.g. toolCall args)
    if ann is bool:
        if not isinstance(value, bool):
            fail(f"{where}: expected a JSON boolean, got {json.dumps(value)[:40]}")
        return value
    if ann is int:
        if isinstance(value, str) and _INT_RE.match(value):
            return int(value)  # proto3 JSON encodes int64 as a string
        if not isinstance(value, int) or isinstance(value, bool):
            fail(f"{where}: expected a JSON integer, got {json.dumps(value)[:40]}")
        return value
    if ann is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            fail(f"{where}: expected a JSON number, got {json.dumps(value)[:40]}")
        return value
    if ann in (str, bytes):
        if not isinstance(value, str):
            fail(f"{where}: expected a JSON string, got {json.dumps(value)[:40]}")
        return value
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        allowed = [m.value for m in ann]
        if value not in allowed:
            fail(f"{where}: {json.dumps(value)[:40]} is not a {ann.__name__} value {allowed[:8]}")
        return value
    return value


class FrameValidator:
    def __init__(self) -> None:
        from google.genai import types
        self.types = types
        extra = types.LiveServerMessage.model_config.get("extra")
        if extra != "forbid":
            # The unknown-field check below relies on the SDK models forbidding extras.
            fail(f"google-genai LiveServerMessage.model_config extra={extra!r} (expected 'forbid'): "
                 "unknown-field detection would be silently lost; update this harness")
        for k in PRIMARY_KEYS + (USAGE_KEY,):
            if _snake(k) not in types.LiveServerMessage.model_fields:
                fail(f"google-genai LiveServerMessage has no field {_snake(k)} for wire key {k}")

    def validate(self, raw: typing.Union[bytes, str]) -> Tuple[Dict[str, Any], Any]:
        """Returns (json dict, strict LiveServerMessage). Raises HarnessFailure."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        if not raw:
            fail("empty server frame")
        try:
            data = json.loads(raw)
        except ValueError as e:
            fail(f"server frame is not valid JSON ({e}): {raw[:200]!r}")
        if not isinstance(data, dict):
            fail(f"server frame is not a JSON object: {raw[:200]!r}")
        keys = list(data)
        primary = [k for k in keys if k in PRIMARY_KEYS]
        bad = [k for k in keys if k not in PRIMARY_KEYS and k != USAGE_KEY]
        if bad:
            hints = []
            for k in bad:
                camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k)
                if camel in PRIMARY_KEYS or camel == USAGE_KEY:
                    hints.append(f"{k!r} is snake_case, the wire uses {camel!r}")
            fail(f"unknown top-level key(s) {bad} (keys: {keys})" + (f"; {'; '.join(hints)}" if hints else ""))
        if len(primary) != 1:
            fail(f"server frame must have exactly one of {list(PRIMARY_KEYS)} (plus optional {USAGE_KEY}); "
                 f"got keys {keys}")
        key = primary[0]
        if not isinstance(data[key], dict) or (USAGE_KEY in data and not isinstance(data[USAGE_KEY], dict)):
            fail(f"{key}: top-level values must be JSON objects: {raw[:200]!r}")
        norm = dict(data)
        if key == "voiceActivity" and isinstance(norm[key], dict):
            # The wire field `type` is mapped to voice_activity_type by the SDK's converter.
            va = dict(norm[key])
            if "type" in va:
                va["voiceActivityType"] = va.pop("type")
            norm[key] = va
        norm = _walk(norm, self.types.LiveServerMessage, "")
        try:
            model = self.types.LiveServerMessage.model_validate_json(
                json.dumps(norm), strict=True, by_alias=True, by_name=False)
        except Exception as e:  # pydantic.ValidationError
            fail(f"{key}: does not validate against google.genai.types.LiveServerMessage "
                 f"(strict, camelCase, no unknown fields): {_fmt_errors(e)}")
        self._semantic(key, data)
        return data, model

    def _semantic(self, key: str, data: Dict[str, Any]) -> None:
        body = data[key]
        if key == "serverContent":
            if not body:
                fail("serverContent is empty")
            turn = body.get("modelTurn")
            if turn is not None:
                parts = turn.get("parts")
                if not isinstance(parts, list) or not parts:
                    fail("serverContent.modelTurn without parts")
                if turn.get("role") not in (None, "model"):
                    fail(f"serverContent.modelTurn.role = {turn.get('role')!r}, expected 'model'")
                for i, p in enumerate(parts):
                    inl = p.get("inlineData")
                    if inl is None:
                        continue
                    where = f"serverContent.modelTurn.parts[{i}].inlineData"
                    check_output_audio_mime(inl.get("mimeType"), where)
                    d = inl.get("data")
                    if not isinstance(d, str):
                        fail(f"{where}.data missing or not a string")
                    try:
                        pcm = base64.b64decode(d, validate=True)
                    except (binascii.Error, ValueError) as e:
                        fail(f"{where}.data is not standard padded base64 ({e})")
                    if not pcm or len(pcm) % 2:
                        fail(f"{where}.data decodes to {len(pcm)} bytes (expected non-empty PCM16, even length)")
            for tk in ("inputTranscription", "outputTranscription"):
                tr = body.get(tk)
                if tr is not None and not isinstance(tr.get("text"), str) and not tr.get("finished"):
                    fail(f"serverContent.{tk} without text: {tr}")
        elif key == "sessionResumptionUpdate":
            if body.get("resumable") is True and not (isinstance(body.get("newHandle"), str) and body["newHandle"]):
                fail(f"sessionResumptionUpdate resumable=true without a non-empty newHandle: {body}")
        elif key == "toolCall":
            for fc in body.get("functionCalls") or []:
                if not fc.get("name"):
                    fail(f"toolCall.functionCalls entry without name: {fc}")
                if "args" in fc and not isinstance(fc["args"], dict):
                    fail(f"toolCall.functionCalls[].args must be a JSON object: {fc}")


# --------------------------------------------------------------------------------------
# Frame recording (websockets connection subclass handed to the SDK)
# --------------------------------------------------------------------------------------

@dataclass
class Frame:
    index: int
    kind: str  # "binary" | "text"
    raw: bytes
    data: Dict[str, Any]
    model: Any
    key: str
    drained: bool = False

    def label(self) -> str:
        body = self.data[self.key]
        sub = ",".join(k for k in body if body[k] not in (None, False)) if isinstance(body, dict) else ""
        extra = f" +{USAGE_KEY}" if USAGE_KEY in self.data else ""
        return f"{self.key}{{{sub}}}{extra}"


@dataclass
class State:
    validator: FrameValidator
    frames: List[Frame] = field(default_factory=list)
    sdk_messages: List[Any] = field(default_factory=list)
    sent: List[str] = field(default_factory=list)
    setup_frame: Optional[str] = None
    first_realtime_frame: Optional[str] = None
    failure: Optional[HarnessFailure] = None
    waiting_for: str = "connect"
    draining: bool = False
    show_frames: bool = False
    capture: str = "none"  # "create_connection" | "session-hook" | "none"

    def record(self, msg: typing.Union[bytes, str]) -> None:
        kind = "text" if isinstance(msg, str) else "binary"
        raw = msg.encode("utf-8") if isinstance(msg, str) else bytes(msg)
        idx = len(self.frames)
        try:
            data, model = self.validator.validate(raw)
            key = next(k for k in data if k in PRIMARY_KEYS)
            if idx == 0 and key != "setupComplete" and self.capture == "create_connection":
                fail(f"first server frame must be setupComplete, got {key}")
            if idx > 0 and key == "setupComplete":
                fail("setupComplete sent more than once")
        except HarnessFailure as f:
            f.args = (f"server frame #{idx} ({kind}): {f.args[0]} -- raw: {raw[:300]!r}",)
            if self.failure is None:
                self.failure = f
            raise
        except Exception as e:  # a bug here must not look like a TypeError to the SDK's recv fallback
            f = HarnessFailure(f"server frame #{idx}: validator crashed: {type(e).__name__}: {e}")
            self.failure = self.failure or f
            raise f
        fr = Frame(idx, kind, raw, data, model, key, drained=self.draining)
        self.frames.append(fr)
        print(f"<- #{idx} {kind} {fr.label()}", flush=True)
        if self.show_frames:
            print(f"   {raw[:400].decode('utf-8', 'replace')}", flush=True)

    def record_sent(self, message: Any) -> None:
        s = message if isinstance(message, str) else bytes(message).decode("utf-8", "replace")
        try:
            d = json.loads(s)
            top = next(iter(d)) if isinstance(d, dict) and d else "?"
            sub = next(iter(d[top])) if isinstance(d.get(top), dict) and d[top] else ""
        except Exception:
            top, sub = "?", ""
        if top == "setup" and self.setup_frame is None:
            self.setup_frame = s
        if top in ("realtime_input", "realtimeInput") and sub == "audio" and self.first_realtime_frame is None:
            self.first_realtime_frame = s
        self.sent.append(f"{top}.{sub}" if sub else top)
        if top not in ("realtime_input", "realtimeInput") or sub != "audio":
            print(f"-> {top}" + (f" {s[:400]}" if self.show_frames else f".{sub}" if sub and top != "setup" else ""),
                  flush=True)

    def summary(self) -> str:
        if not self.frames:
            return "(no server frames)"
        return "; ".join(f"#{f.index} {f.kind} {f.label()}" for f in self.frames)


def make_recording_connection(state: State) -> type:
    from websockets.asyncio.client import ClientConnection

    class RecordingConnection(ClientConnection):
        understudy_state = state

        async def recv(self, decode: Optional[bool] = None) -> Any:  # type: ignore[override]
            msg = await super().recv(decode=None)  # str = text frame, bytes = binary frame
            if state.capture == "none":
                state.capture = "create_connection"
            state.record(msg)
            if decode is False and isinstance(msg, str):
                return msg.encode("utf-8")
            if decode is True and isinstance(msg, bytes):
                return msg.decode("utf-8")
            return msg

        async def send(self, message: Any, text: Optional[bool] = None) -> None:  # type: ignore[override]
            if isinstance(message, (str, bytes, bytearray, memoryview)):
                state.record_sent(message)
            await super().send(message, text=text)

    return RecordingConnection


def hook_session_ws(state: State, ws: Any) -> None:
    """Fallback when the SDK did not use create_connection: wrap the instance's recv/send."""
    orig_recv, orig_send = ws.recv, ws.send

    async def recv(decode: Optional[bool] = None) -> Any:
        msg = await orig_recv(decode=None)
        state.record(msg)
        if decode is False and isinstance(msg, str):
            return msg.encode("utf-8")
        if decode is True and isinstance(msg, bytes):
            return msg.decode("utf-8")
        return msg

    async def send(message: Any, text: Optional[bool] = None) -> None:
        if isinstance(message, (str, bytes, bytearray, memoryview)):
            state.record_sent(message)
        await orig_send(message, text=text)

    ws.recv, ws.send = recv, send


# --------------------------------------------------------------------------------------
# TLS / CA handling
# --------------------------------------------------------------------------------------

def _pem_ders(path: str) -> List[bytes]:
    try:
        text = open(path, "r", encoding="ascii", errors="replace").read()
    except OSError as e:
        fail(f"--ca-file {path}: {e}")
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    if not blocks:
        fail(f"--ca-file {path}: no PEM certificate found")
    return [ssl.PEM_cert_to_DER_cert(b) for b in blocks]


def check_sdk_ssl_context(client: Any, ca_file: Optional[str]) -> str:
    """Confirm the SDK's websocket SSLContext trusts exactly what SSL_CERT_FILE points at."""
    api = getattr(client, "_api_client", None)
    ctx = (getattr(api, "_websocket_ssl_ctx", None) or {}).get("ssl") if api is not None else None
    if not isinstance(ctx, ssl.SSLContext):
        return "could not inspect the SDK's websocket SSLContext (private attribute moved); relying on the handshake"
    if not ca_file:
        return f"SDK websocket SSLContext from SSL_CERT_FILE={os.environ.get('SSL_CERT_FILE')!r} / certifi"
    want = _pem_ders(ca_file)
    have = set(ctx.get_ca_certs(binary_form=True))
    stats = ctx.cert_store_stats()
    if all(d in have for d in want):
        how = "found in get_ca_certs()"
    elif stats.get("x509", -1) == len(want):
        how = f"store holds exactly {len(want)} cert(s) (non-CA self-signed cert, not listed by get_ca_certs())"
    else:
        fail(f"the SDK's websocket SSLContext does not hold the certificate(s) from --ca-file {ca_file} "
             f"(store stats {stats}); SSL_CERT_FILE was not honoured")
    only = " (only the --ca-file certs; certifi not loaded)" if stats.get("x509") == len(want) else ""
    return f"SDK websocket SSLContext built from SSL_CERT_FILE={ca_file}: {how}; store {stats.get('x509')} cert(s){only}"


# --------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------

def read_wav(path: str) -> bytes:
    try:
        with wave.open(path, "rb") as w:
            if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, INPUT_RATE):
                fail(f"{path}: need mono 16-bit {INPUT_RATE} Hz, got {w.getnchannels()} ch, "
                     f"{8 * w.getsampwidth()} bit, {w.getframerate()} Hz")
            return w.readframes(w.getnframes())
    except (OSError, wave.Error) as e:
        fail(f"cannot read --audio {path}: {e}")


def live_config(types: Any, scenario: str) -> Any:
    if scenario == "audio":
        return types.LiveConnectConfig(
            response_modalities=[types.Modality.AUDIO],
            input_audio_transcription=types.AudioTranscriptionConfig(),
            output_audio_transcription=types.AudioTranscriptionConfig(),
            session_resumption=types.SessionResumptionConfig(),
            realtime_input_config=types.RealtimeInputConfig(
                automatic_activity_detection=types.AutomaticActivityDetection(disabled=False)),
        )
    return types.LiveConnectConfig(response_modalities=[types.Modality.AUDIO])


async def receive_turn(session: Any, state: State) -> None:
    """session.receive() until the SDK's own end-of-turn (turnComplete)."""
    async for msg in session.receive():
        state.sdk_messages.append(msg)
        sc = msg.server_content
        if sc is not None and sc.turn_complete:
            return
    fail("session.receive() ended without a turn_complete message")


async def drain(session: Any, state: State, seconds: float) -> None:
    """Keep reading briefly after turnComplete so trailing frames (e.g. the post-turn
    sessionResumptionUpdate) are validated too."""
    if seconds <= 0:
        return
    state.draining = True
    state.waiting_for = f"(draining {seconds:g}s)"
    it = session.receive().__aiter__()
    deadline = time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                msg = await asyncio.wait_for(it.__anext__(), timeout=left)
            except (asyncio.TimeoutError, StopAsyncIteration):
                return
            state.sdk_messages.append(msg)
    except HarnessFailure:
        raise
    except Exception as e:
        fail(f"after turnComplete the connection failed: {type(e).__name__}: {e}")
    finally:
        try:
            await it.aclose()
        except Exception:
            pass


def _reader_alive(reader: "asyncio.Task[None]") -> None:
    """Surface a receive-side failure (bad frame, close) while we are still sending."""
    if reader.done() and not reader.cancelled() and reader.exception() is not None:
        raise reader.exception()  # type: ignore[misc]


async def scenario_audio(session: Any, types: Any, state: State, args: argparse.Namespace) -> None:
    pcm = read_wav(args.audio)
    chunk = INPUT_RATE * 2 // 10  # 100 ms
    mime = f"audio/pcm;rate={INPUT_RATE}"
    reader = asyncio.get_running_loop().create_task(receive_turn(session, state))
    state.waiting_for = "turnComplete (while streaming audio)"
    try:
        # The whole input is always sent, even if the turn completes early (a VAD mock
        # answers during the trailing silence): a real microphone keeps streaming too.
        n = 0
        for off in range(0, len(pcm), chunk):
            _reader_alive(reader)
            await session.send_realtime_input(audio=types.Blob(data=pcm[off:off + chunk], mime_type=mime))
            n += 1
            await asyncio.sleep(0.02)
        print(f"-> realtime_input.audio x{n} ({len(pcm) // 32} ms of {os.path.basename(args.audio)}, "
              f"100 ms chunks every 20 ms)", flush=True)
        zeros = bytes(chunk)
        for _ in range(10):  # 1 s of silence so a server VAD surely sees the end of speech
            _reader_alive(reader)
            await session.send_realtime_input(audio=types.Blob(data=zeros, mime_type=mime))
            await asyncio.sleep(0.02)
        print("-> realtime_input.audio x10 (1 s of silence)", flush=True)
        _reader_alive(reader)
        if "audio_stream_end" in types.LiveSendRealtimeInputParameters.model_fields:
            await session.send_realtime_input(audio_stream_end=True)
        else:
            print("   (this SDK version has no audio_stream_end; relying on the silence)", flush=True)
        state.waiting_for = "turnComplete (all audio sent)"
        await reader
    finally:
        if not reader.done():
            reader.cancel()
            try:
                await reader
            except BaseException:
                pass


async def scenario_text(session: Any, types: Any, state: State, args: argparse.Namespace) -> None:
    reader = asyncio.get_running_loop().create_task(receive_turn(session, state))
    try:
        await session.send_client_content(
            turns=types.Content(role="user", parts=[types.Part(text=TEXT_PROMPT)]), turn_complete=True)
        state.waiting_for = "turnComplete"
        await reader
    finally:
        if not reader.done():
            reader.cancel()
            try:
                await reader
            except BaseException:
                pass


SCENARIOS = {"audio": scenario_audio, "text": scenario_text}


# --------------------------------------------------------------------------------------
# --replay-order: the cassette's own client frames through the SDK, pipelined or one
# at a time, and its server frames back identical and in recorded order
# --------------------------------------------------------------------------------------

def load_cassette(path: str) -> Tuple[List[Tuple[int, Dict[str, Any]]], List[Dict[str, Any]]]:
    """The cassette's JSON client frames (with their times, µs) and JSON server frames, in
    recorded order, audio restored from the sidecars beside it."""
    from cassette_file import read_json_frames
    frames = read_json_frames(path)
    return ([(t, p) for t, d, p in frames if d == "c2s"], [p for _, d, p in frames if d != "c2s"])


def _field(body: Dict[str, Any], camel: str) -> Any:
    """A field in either spelling (the service accepts camelCase and snake_case)."""
    return body.get(camel, body.get(_snake(camel)))


async def send_recorded(session: Any, types: Any, message: Dict[str, Any]) -> bool:
    """Sends one recorded client message through the SDK's own API; returns whether it
    was audio. Setup is the SDK's connect()."""
    (key, body), = message.items()
    if key in ("realtimeInput", "realtime_input"):
        audio = _field(body, "audio")
        if audio is not None:
            data = audio.get("data", "")
            try:
                pcm = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                pcm = base64.urlsafe_b64decode(data)
            await session.send_realtime_input(audio=types.Blob(data=pcm, mime_type=_field(audio, "mimeType")))
            return True
        if _field(body, "activityStart") is not None:
            await session.send_realtime_input(activity_start=types.ActivityStart())
        elif _field(body, "activityEnd") is not None:
            await session.send_realtime_input(activity_end=types.ActivityEnd())
        elif _field(body, "audioStreamEnd") is not None:
            await session.send_realtime_input(audio_stream_end=True)
        elif _field(body, "text") is not None:
            await session.send_realtime_input(text=_field(body, "text"))
        else:
            fail(f"--replay-order: no SDK call for recorded realtimeInput {sorted(body)}")
        return False
    if key in ("clientContent", "client_content"):
        turns = [types.Content.model_validate(t) for t in _field(body, "turns") or []]
        await session.send_client_content(turns=turns, turn_complete=bool(_field(body, "turnComplete")))
        return False
    if key in ("toolResponse", "tool_response"):
        responses = [types.FunctionResponse.model_validate(r) for r in _field(body, "functionResponses") or []]
        await session.send_tool_response(function_responses=responses)
        return False
    fail(f"--replay-order: no SDK call for recorded client message {key}")


async def scenario_replay_order(session: Any, types: Any, state: State, args: argparse.Namespace) -> None:
    """Pipelined: every recorded client message at once. One at a time: audio streams at
    its recorded pace (a microphone), and after any other message the harness waits until
    the server has been quiet for --quiet-ms. Either way every recorded server frame must
    arrive, identical and in recorded order, and nothing else."""
    client, server = load_cassette(args.replay_order)
    client = [(t, m) for t, m in client if next(iter(m)) != "setup"]
    quiet = args.quiet_ms / 1000.0

    async def reader() -> None:
        # session.receive() ends at each turnComplete; a session has more turns.
        while True:
            async for msg in session.receive():
                state.sdk_messages.append(msg)

    async def settle() -> None:
        state.waiting_for = f"quiet for {args.quiet_ms:g} ms"
        seen = -1
        while seen != len(state.frames):
            seen = len(state.frames)
            await asyncio.sleep(quiet)
            if task.done():
                break

    task = asyncio.get_running_loop().create_task(reader())
    try:
        previous_t: Optional[int] = None
        for t_us, message in client:
            _reader_alive(task)
            if args.pacing == "one-at-a-time" and previous_t is not None:
                await asyncio.sleep(min(0.1, max(0.0, (t_us - previous_t) / 1e6)))
            previous_t = t_us
            was_audio = await send_recorded(session, types, message)
            if args.pacing == "one-at-a-time" and not was_audio:
                await settle()
        print(f"-> {len(client)} recorded client messages ({args.pacing})", flush=True)
        while len(state.frames) < len(server):
            _reader_alive(task)
            if state.failure:
                raise state.failure
            state.waiting_for = f"recorded frame {len(state.frames) + 1} of {len(server)}"
            await asyncio.sleep(0.05)
        state.draining = True
        await asyncio.sleep(args.drain_ms / 1000.0)
    finally:
        if not task.done():
            task.cancel()
            try:
                await task
            except BaseException:
                pass
    if state.failure:
        raise state.failure
    got = [f.data for f in state.frames]
    for i, (have, want) in enumerate(zip(got, server)):
        if have != want:
            fail(f"server frame {i + 1}: expected {json.dumps(want)[:160]}, got {json.dumps(have)[:160]}")
    if len(got) != len(server):
        fail(f"received {len(got)} server frames, the cassette has {len(server)}")


# --------------------------------------------------------------------------------------
# Turn checks (on the SDK's parsed messages, cross-checked with the raw frames)
# --------------------------------------------------------------------------------------

def cross_check(state: State) -> None:
    """The SDK's own parse must agree with the strict parse of the same raw frame."""
    frames = [f for f in state.frames if f.key != "setupComplete"]
    if state.capture == "session-hook":
        frames = state.frames
    if len(frames) != len(state.sdk_messages):
        fail(f"{len(frames)} raw frames (after setupComplete) but the SDK yielded {len(state.sdk_messages)} messages")
    for fr, msg in zip(frames, state.sdk_messages):
        sdk = msg.model_dump(exclude_none=True)
        strict = fr.model.model_dump(exclude_none=True)
        if sdk != strict:
            ks = sorted(set(sdk) ^ set(strict)) or sorted(k for k in sdk if sdk[k] != strict.get(k))
            fail(f"frame #{fr.index}: the SDK's LiveServerMessage differs from the strict parse in {ks}: "
                 f"SDK {json.dumps(sdk, default=str)[:200]} vs strict {json.dumps(strict, default=str)[:200]}")


def check_turn(state: State, scenario: str, session: Any) -> str:
    msgs = state.sdk_messages
    if getattr(session, "setup_complete", "n/a") is None:
        fail("the SDK did not record a setup_complete for the session")
    if state.capture == "create_connection" and (not state.frames or state.frames[0].key != "setupComplete"):
        fail("no setupComplete frame")
    audio = bytearray()
    n_audio_parts = 0
    input_tr: List[str] = []
    output_tr: List[str] = []
    turn_complete = False
    handles: List[str] = []
    for m in msgs:
        sc = m.server_content
        if sc is not None:
            if sc.model_turn is not None:
                for p in sc.model_turn.parts or []:
                    if p.inline_data is None:
                        continue
                    check_output_audio_mime(p.inline_data.mime_type, "SDK model_turn part inline_data")
                    data = p.inline_data.data or b""
                    if not isinstance(data, bytes) or not data or len(data) % 2:
                        fail(f"SDK inline_data.data is {type(data).__name__} of {len(data)} bytes "
                             "(expected decoded PCM16, even length)")
                    audio += data
                    n_audio_parts += 1
            if sc.input_transcription is not None and sc.input_transcription.text:
                input_tr.append(sc.input_transcription.text)
            if sc.output_transcription is not None and sc.output_transcription.text:
                output_tr.append(sc.output_transcription.text)
            if sc.turn_complete:
                turn_complete = True
        sru = m.session_resumption_update
        if sru is not None and sru.resumable and sru.new_handle:
            handles.append(sru.new_handle)
    if not n_audio_parts:
        fail("no serverContent.modelTurn part with inlineData audio")
    if not turn_complete:
        fail("no serverContent.turnComplete")
    details = [f"{n_audio_parts} audio parts, {len(audio)} bytes (~{len(audio) * 1000 // (OUTPUT_RATE * 2)} ms @24k)"]
    if scenario == "audio":
        if not input_tr:
            fail("no serverContent.inputTranscription text (input_audio_transcription is on)")
        if not output_tr:
            fail("no serverContent.outputTranscription chunks (output_audio_transcription is on)")
        if not handles:
            fail("no sessionResumptionUpdate with resumable=true and a newHandle (session_resumption is on)")
        details += [f"input transcript {''.join(input_tr)!r}",
                    f"output transcript {''.join(output_tr)!r} ({len(output_tr)} chunks)",
                    f"resumption handles {handles}"]
    return "; ".join(details)


# --------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------

def parse_headers(items: List[str]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for it in items:
        k, sep, v = it.partition("=")
        if not sep or not k.strip():
            fail(f"--header {it!r}: expected K=V")
        out[k.strip()] = v
    return out


async def run(args: argparse.Namespace, state_box: List[State]) -> int:
    if args.ca_file:
        if not os.path.isfile(args.ca_file):
            fail(f"--ca-file {args.ca_file}: no such file")
        os.environ["SSL_CERT_FILE"] = os.path.abspath(args.ca_file)  # before genai.Client builds its SSLContext
    from google import genai
    from google.genai import errors, types

    state = State(FrameValidator(), show_frames=args.show_frames)
    state_box.append(state)
    conn_cls = make_recording_connection(state)
    http_options = types.HttpOptions(
        base_url=args.base_url, api_version=args.api_version,
        headers=parse_headers(args.header) or None,
        # Forwarded by the SDK to websockets.asyncio.client.connect() only (dropped for httpx/aiohttp).
        async_client_args={"create_connection": conn_cls},
    )
    client = genai.Client(api_key=args.api_key, http_options=http_options)
    print(f"   google-genai {genai.__version__}; tls: {check_sdk_ssl_context(client, args.ca_file)}", flush=True)
    config = live_config(types, args.scenario)
    state.waiting_for = "connect + setupComplete"
    try:
        async with client.aio.live.connect(model=args.model, config=config) as session:
            if not isinstance(session._ws, conn_cls):
                state.capture = "session-hook"
                print("   note: SDK ignored create_connection; hooking session._ws (setupComplete not captured)",
                      flush=True)
                hook_session_ws(state, session._ws)
            print(f"   connected; setup_complete={session.setup_complete is not None} "
                  f"session_id={session.session_id!r}", flush=True)
            if args.replay_order:
                await scenario_replay_order(session, types, state, args)
                if state.capture != "create_connection":
                    fail("--replay-order needs every raw frame, setupComplete included")
                cross_check(state)
                details = f"{len(state.frames)} recorded server frames in recorded order"
            else:
                await SCENARIOS[args.scenario](session, types, state, args)
                await drain(session, state, args.drain_ms / 1000.0)
                if state.failure:
                    raise state.failure
                cross_check(state)
                details = check_turn(state, args.scenario, session)
    except HarnessFailure:
        raise
    except errors.APIError as e:
        if state.failure:
            raise state.failure
        fail(f"SDK raised APIError code={e.code} ({str(e)[:200]!r}) while waiting for {state.waiting_for}")
    except (ssl.SSLError, ssl.CertificateError) as e:
        fail(f"TLS failure: {type(e).__name__}: {e} (is --ca-file the mock's CA?)")
    except OSError as e:
        fail(f"connect to {args.base_url} failed: {type(e).__name__}: {e}")
    except Exception as e:
        if state.failure:
            raise state.failure
        fail(f"SDK raised {type(e).__name__}: {e} while waiting for {state.waiting_for}")
    kinds = sorted({f.kind for f in state.frames})
    print(f"   {details}", flush=True)
    print(f"   server frames: {len(state.frames)} ({'/'.join(kinds) or 'none'}); "
          f"capture via {state.capture}; client sent {len(state.sent)} frames", flush=True)
    print(f"OK {run_label(args)} {len(state.frames)} messages", flush=True)
    return 0


# --------------------------------------------------------------------------------------
# --self-check: validator tests without a server
# --------------------------------------------------------------------------------------

PCM_B64 = base64.b64encode(bytes(range(16))).decode()
GOOD_AUDIO = {"serverContent": {"modelTurn": {"role": "model", "parts": [
    {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": PCM_B64}}]}}}


def _deep_set(d: Any, path: str, value: Any, delete: bool = False) -> Any:
    out = json.loads(json.dumps(d))
    cur = out
    keys = path.split(".")
    for k in keys[:-1]:
        cur = cur[int(k)] if isinstance(cur, list) else cur[k]
    if delete:
        del cur[keys[-1]]
    else:
        cur[keys[-1]] = value
    return out


def _rename(d: Dict[str, Any], path: str, new: str) -> Any:
    out = json.loads(json.dumps(d))
    cur = out
    keys = path.split(".")
    for k in keys[:-1]:
        cur = cur[int(k)] if isinstance(cur, list) else cur[k]
    cur[new] = cur.pop(keys[-1])
    return out


def self_check() -> int:
    v = FrameValidator()
    P = "serverContent.modelTurn.parts.0.inlineData"
    cases: List[Tuple[str, Any, bool]] = [
        ("setupComplete {}", {"setupComplete": {}}, True),
        ("setupComplete with sessionId", {"setupComplete": {"sessionId": "s-1"}}, True),
        ("serverContent.modelTurn audio 24k (good)", GOOD_AUDIO, True),
        ("serverContent.inputTranscription", {"serverContent": {"inputTranscription": {"text": "What's the"}}}, True),
        ("serverContent.outputTranscription", {"serverContent": {"outputTranscription": {"text": "It's sunny"}}}, True),
        ("generationComplete", {"serverContent": {"generationComplete": True}}, True),
        ("turnComplete + usageMetadata (protocol 4.6)", {
            "serverContent": {"turnComplete": True},
            "usageMetadata": {"promptTokenCount": 912, "responseTokenCount": 143, "totalTokenCount": 1055,
                              "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": 700},
                                                      {"modality": "TEXT", "tokenCount": 212}],
                              "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": 143}]}}, True),
        ("interrupted", {"serverContent": {"interrupted": True}}, True),
        ("sessionResumptionUpdate", {"sessionResumptionUpdate": {"newHandle": "Cj8KQ", "resumable": True}}, True),
        ("sessionResumptionUpdate not resumable, no handle",
         {"sessionResumptionUpdate": {"resumable": False}}, True),
        ("toolCall (args keys are free-form)", {"toolCall": {"functionCalls": [
            {"id": "function-call-8112", "name": "get_weather", "args": {"city_name": "Paris"}}]}}, True),
        ("toolCallCancellation", {"toolCallCancellation": {"ids": ["function-call-8112"]}}, True),
        ("goAway", {"goAway": {"timeLeft": "10s"}}, True),
        ("voiceActivity (wire field `type`)", {"voiceActivity": {"type": "ACTIVITY_START"}}, True),
        ("lastConsumedClientMessageIndex as proto int64 string", {"sessionResumptionUpdate": {
            "newHandle": "h2", "resumable": True, "lastConsumedClientMessageIndex": "42"}}, True),
        ("turnCompleteReason enum", {"serverContent": {"turnComplete": True,
                                                       "turnCompleteReason": "NEED_MORE_INPUT"}}, True),
        # --- must be rejected ---
        ("snake_case top-level server_content", {"server_content": GOOD_AUDIO["serverContent"]}, False),
        ("unknown top-level key next to serverContent", {**GOOD_AUDIO, "debugInfo": {}}, False),
        ("unknown top-level key alone", {"fooBar": {}}, False),
        ("snake_case usage_metadata sibling", {"serverContent": {"turnComplete": True},
                                               "usage_metadata": {"totalTokenCount": 1}}, False),
        ("two primary keys", {"serverContent": {"turnComplete": True}, "goAway": {"timeLeft": "1s"}}, False),
        ("usageMetadata alone", {"usageMetadata": {"totalTokenCount": 1}}, False),
        ("empty object", {}, False),
        ("nested snake_case inline_data", _rename(GOOD_AUDIO, "serverContent.modelTurn.parts.0.inlineData",
                                                  "inline_data"), False),
        ("nested snake_case turn_complete", {"serverContent": {"turn_complete": True}}, False),
        ("nested snake_case mime_type", _rename(GOOD_AUDIO, f"{P}.mimeType", "mime_type"), False),
        ("unknown serverContent field", {"serverContent": {"turnComplete": True, "audioDone": True}}, False),
        ("audio at 16 kHz", _deep_set(GOOD_AUDIO, f"{P}.mimeType", "audio/pcm;rate=16000"), False),
        ("audio mime without rate", _deep_set(GOOD_AUDIO, f"{P}.mimeType", "audio/pcm"), False),
        ("audio odd byte count", _deep_set(GOOD_AUDIO, f"{P}.data", base64.b64encode(b"\x00\x01\x02").decode()),
         False),
        ("audio data not base64", _deep_set(GOOD_AUDIO, f"{P}.data", "not base64!!"), False),
        ("audio data unpadded base64", _deep_set(GOOD_AUDIO, f"{P}.data", "AAEC" + "AAE"), False),
        ("turnComplete as string", {"serverContent": {"turnComplete": "yes"}}, False),
        ("thought as string in a part", _deep_set(GOOD_AUDIO, "serverContent.modelTurn.parts.0.thought", "yes"),
         False),
        ("null field", {"serverContent": {"turnComplete": True, "interrupted": None}}, False),
        ("tokenCount as float string", {"serverContent": {"turnComplete": True},
                                        "usageMetadata": {"totalTokenCount": "1.5"}}, False),
        ("unknown enum value", {"serverContent": {"turnCompleteReason": "BECAUSE"}}, False),
        ("nested snake_case in usageMetadata", {"serverContent": {"turnComplete": True},
                                                "usageMetadata": {"total_token_count": 3}}, False),
        ("resumable without newHandle", {"sessionResumptionUpdate": {"resumable": True}}, False),
        ("toolCall args as JSON string", {"toolCall": {"functionCalls": [
            {"id": "c1", "name": "get_weather", "args": "{\"city\":\"Paris\"}"}]}}, False),
        ("OpenAI-style typed event", {"type": "response.audio.delta", "delta": "AAAA"}, False),
        ("JSON array", [GOOD_AUDIO], False),
        ("not JSON", "not json", False),
        ("empty frame", "", False),
    ]
    bad = 0
    for name, frame, ok in cases:
        raw = frame if isinstance(frame, str) else json.dumps(frame)
        results = []
        for form in (raw.encode(), raw):  # binary and text frames
            try:
                v.validate(form)
                results.append((True, ""))
            except HarnessFailure as f:
                results.append((False, str(f)))
        got, why = results[0]
        if results[1][0] != got:
            got, why = not ok, "binary and text forms validated differently"
        status = "PASS" if got == ok else "FAIL"
        bad += status == "FAIL"
        print(f"{status} {name}: {'accepted' if got else 'rejected'} (expected {'accepted' if ok else 'rejected'})"
              + (f"\n       -> {why}" if why else ""))
    if bad:
        print(f"FAIL: self-check: {bad} case(s) wrong")
        return 1
    print(f"OK self-check {len(cases)} cases")
    return 0


# --------------------------------------------------------------------------------------

def run_label(args: argparse.Namespace) -> str:
    return f"replay-{args.pacing}" if args.replay_order else args.scenario


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", help="https://127.0.0.1:PORT (http_options.base_url; the SDK forces wss://)")
    p.add_argument("--api-version", default="v1beta", help="http_options.api_version (default v1beta)")
    p.add_argument("--ca-file", help="PEM CA/cert of the mock; exported as SSL_CERT_FILE before the SDK's Client")
    p.add_argument("--api-key", default=DEFAULT_API_KEY, help=f"default {DEFAULT_API_KEY}")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"default {DEFAULT_MODEL}")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="audio")
    p.add_argument("--audio", default=DEFAULT_AUDIO, help="16 kHz mono PCM16 WAV for --scenario audio")
    p.add_argument("--header", action="append", default=[], metavar="K=V",
                   help="extra handshake header via http_options.headers (repeatable), "
                        "e.g. X-Understudy-Cassette=NAME")
    p.add_argument("--timeout", type=float, default=20.0, help="overall timeout in seconds (default 20)")
    p.add_argument("--drain-ms", type=float, default=500.0,
                   help="after turnComplete keep reading/validating for this long (default 500)")
    p.add_argument("--show-frames", action="store_true", help="print raw server frames and client frames")
    p.add_argument("--self-check", action="store_true", help="test the strict frame validator offline and exit")
    p.add_argument("--replay-order", metavar="CASSETTE_FILE",
                   help="send this cassette's client messages through the SDK (name it with --header "
                        "X-Understudy-Cassette=NAME) and require its server frames, identical and in order")
    p.add_argument("--pacing", choices=["pipelined", "one-at-a-time"], default="pipelined",
                   help="--replay-order: everything at once, or audio at its recorded pace and each other "
                        "message once the server has been quiet for --quiet-ms")
    p.add_argument("--quiet-ms", type=float, default=400.0,
                   help="--replay-order one-at-a-time: silence that ends the answers to one message (default 400)")
    args = p.parse_args()

    try:
        if args.self_check:
            return self_check()
    except HarnessFailure as f:
        print(f"FAIL: self-check: {f}", flush=True)
        return 1
    if not args.base_url:
        p.error("--base-url is required")

    t0 = time.monotonic()
    state_box: List[State] = []
    try:
        return asyncio.run(asyncio.wait_for(run(args, state_box), timeout=args.timeout))
    except HarnessFailure as f:
        print(f"FAIL: {run_label(args)}: {f} ({time.monotonic() - t0:.1f}s)", flush=True)
        return 1
    except asyncio.TimeoutError:
        st = state_box[0] if state_box else None
        if st is not None and st.failure is not None:
            print(f"FAIL: {args.scenario}: {st.failure}", flush=True)
            return 1
        what = st.waiting_for if st else "startup"
        seen = st.summary() if st else "(none)"
        print(f"FAIL: {args.scenario}: timeout after {args.timeout:g}s waiting for {what}; "
              f"server messages seen: {seen}", flush=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
