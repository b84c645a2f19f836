#!/usr/bin/env python3
"""Drive one Qwen-Omni realtime turn with the *unmodified* official `dashscope`
Python SDK (dashscope.audio.qwen_omni.OmniRealtimeConversation) against a mock
server, and check every server event against the DashScope protocol
(the Qwen-Omni realtime protocol).

Run with the harness venv (scripts/python-env.sh prints its python):

    PY=$(scripts/python-env.sh | tail -n1)
    $PY tests/sdk/dashscope_omni_turn.py --url ws://127.0.0.1:PORT/api-ws/v1/realtime --scenario vad
    $PY tests/sdk/dashscope_omni_turn.py --url ws://127.0.0.1:PORT/api-ws/v1/realtime --scenario manual
    $PY tests/sdk/dashscope_omni_turn.py --url ws://127.0.0.1:PORT/api-ws/v1/realtime --expect-setup-error
    $PY tests/sdk/dashscope_omni_turn.py --self-check

The SDK is thread based (websocket-client's run_forever in a daemon thread) and
hands every server frame to `OmniRealtimeCallback.on_event(dict)`. The callback
only enqueues; all checks run on the main thread so a failure is never
swallowed by websocket-client's callback error handler. ERROR records that the
SDK (logger "dashscope") or websocket-client (logger "websocket") log while the
scenario runs also fail it: that is how the SDK reports e.g. a binary frame or a
KeyError while it dereferences `session.id` / `response.id`.

dashscope 2.0.2 has no typed (pydantic) server-event models for this API (the
events are plain dicts, also in its newer `dashscope.v2` realtime client), so
the checks below are explicit:
  - every event: JSON object with string `type` and non-empty string `event_id`;
  - `type` is a DashScope Qwen-Omni (= OpenAI *beta*) name; OpenAI GA names
    (`response.output_audio.delta`, `conversation.item.added`, ...) and unknown
    names fail;
  - `session.created` first and only once, with `session.id`;
  - `response.created` with `response.id` and status `in_progress`;
  - `output_index` / `content_index`, where present, are the integer 0;
  - response-scoped events only for an open response (nothing after its
    `response.done`); `response.audio.delta` is valid base64 of an even
    number of bytes; `response.done.response.usage`, if present, spells
    `input_tokens_details` / `output_tokens_details`;
  - nothing after `session.finished`.
Per scenario, the whole turn is then checked (see check_turn()).

Output: one `<- <type>` line per server event, `-> <type>` per client call,
finally `OK vad|manual <N> events` / `OK setup-error` / `OK self-check N cases`
(exit 0) or `FAIL: ...` (exit 1).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import json
import logging
import os
import queue
import sys
import threading
import time
import typing
import wave
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_AUDIO = os.path.join(REPO_ROOT, "fixtures", "audio", "user-weather-16k.wav")


class HarnessFailure(Exception):
    """A conformance failure (exit 1)."""


def fail(msg: str) -> typing.NoReturn:
    raise HarnessFailure(msg)


# --------------------------------------------------------------------------------------
# Event names
# --------------------------------------------------------------------------------------

# Server events of the DashScope Qwen-Omni realtime API (protocol §5).
DASHSCOPE_SERVER_EVENTS: Set[str] = {
    "error",
    "session.created", "session.updated", "session.finished",
    "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed", "input_audio_buffer.cleared",
    "conversation.item.created",
    "conversation.item.input_audio_transcription.delta",
    "conversation.item.input_audio_transcription.completed",
    "conversation.item.input_audio_transcription.failed",
    "response.created", "response.done",
    "response.output_item.added", "response.output_item.done",
    "response.content_part.added", "response.content_part.done",
    "response.text.delta", "response.text.done",
    "response.audio.delta", "response.audio.done",
    "response.audio_transcript.delta", "response.audio_transcript.done",
    "response.function_call_arguments.delta", "response.function_call_arguments.done",
}

# OpenAI GA-only server event names -> the DashScope (beta) name a mock must use.
GA_ONLY_EVENTS: Dict[str, str] = {
    "response.output_audio.delta": "response.audio.delta",
    "response.output_audio.done": "response.audio.done",
    "response.output_audio_transcript.delta": "response.audio_transcript.delta",
    "response.output_audio_transcript.done": "response.audio_transcript.done",
    "response.output_text.delta": "response.text.delta",
    "response.output_text.done": "response.text.done",
    "conversation.item.added": "conversation.item.created",
    "conversation.item.done": "conversation.item.created",
    "conversation.item.input_audio_transcription.segment": "conversation.item.input_audio_transcription.completed",
    "input_audio_buffer.timeout_triggered": "(none)",
    "output_audio_buffer.started": "(none)",
    "output_audio_buffer.stopped": "(none)",
    "output_audio_buffer.cleared": "(none)",
}

# Fields required per event type (beyond type/event_id), protocol §5.
REQUIRED_FIELDS: Dict[str, Dict[str, type]] = {
    "error": {"error": dict},
    "session.created": {"session": dict},
    "session.updated": {"session": dict},
    "input_audio_buffer.speech_started": {"item_id": str, "audio_start_ms": int},
    "input_audio_buffer.speech_stopped": {"item_id": str, "audio_end_ms": int},
    "input_audio_buffer.committed": {"item_id": str},
    "conversation.item.created": {"item": dict},
    "conversation.item.input_audio_transcription.completed": {"item_id": str, "transcript": str},
    "conversation.item.input_audio_transcription.failed": {"item_id": str, "error": dict},
    "response.created": {"response": dict},
    "response.done": {"response": dict},
    "response.output_item.added": {"response_id": str, "output_index": int, "item": dict},
    "response.output_item.done": {"response_id": str, "output_index": int, "item": dict},
    "response.content_part.added": {"response_id": str, "item_id": str, "output_index": int,
                                    "content_index": int, "part": dict},
    "response.content_part.done": {"response_id": str, "item_id": str, "output_index": int,
                                   "content_index": int, "part": dict},
    "response.text.delta": {"response_id": str, "item_id": str, "output_index": int, "content_index": int,
                            "delta": str},
    "response.text.done": {"response_id": str, "item_id": str, "output_index": int, "content_index": int,
                           "text": str},
    "response.audio.delta": {"response_id": str, "item_id": str, "output_index": int, "content_index": int,
                             "delta": str},
    "response.audio.done": {"response_id": str, "item_id": str, "output_index": int, "content_index": int},
    "response.audio_transcript.delta": {"response_id": str, "item_id": str, "output_index": int,
                                        "content_index": int, "delta": str},
    "response.audio_transcript.done": {"response_id": str, "item_id": str, "output_index": int,
                                       "content_index": int, "transcript": str},
    "response.function_call_arguments.delta": {"response_id": str, "call_id": str, "delta": str},
    "response.function_call_arguments.done": {"response_id": str, "call_id": str, "arguments": str},
}

# Events that belong to one response and must not follow its response.done.
RESPONSE_SCOPED_PREFIX = "response."

_TYPE_NAMES = {dict: "object", str: "string", int: "integer", list: "array"}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_type(v: Any, want: type) -> bool:
    return _is_int(v) if want is int else isinstance(v, want)


# --------------------------------------------------------------------------------------
# Per-event checker (stateful, no I/O; used live and by --self-check)
# --------------------------------------------------------------------------------------

@dataclass
class ResponseRecord:
    id: str
    created_index: int
    events: List[Dict[str, Any]] = field(default_factory=list)
    done: Optional[Dict[str, Any]] = None


class EventChecker:
    def __init__(self, *, allow_error: bool = False) -> None:
        self.allow_error = allow_error
        self.events: List[Dict[str, Any]] = []
        self.responses: Dict[str, ResponseRecord] = {}
        self.open: Set[str] = set()
        self.finished = False

    def feed(self, ev: Any) -> Dict[str, Any]:
        idx = len(self.events)
        if not isinstance(ev, dict):
            fail(f"server event #{idx} is not a JSON object: {str(ev)[:200]}")
        t = ev.get("type")
        if not isinstance(t, str) or not t:
            fail(f"server event #{idx} has no string 'type': {json.dumps(ev)[:200]}")
        eid = ev.get("event_id")
        if not isinstance(eid, str) or not eid:
            fail(f"{t} (event #{idx}) has no non-empty string 'event_id' (got {eid!r})")
        if t in GA_ONLY_EVENTS:
            fail(f"{t} is an OpenAI GA event name; DashScope uses the OpenAI beta names "
                 f"(expected {GA_ONLY_EVENTS[t]})")
        if t not in DASHSCOPE_SERVER_EVENTS:
            fail(f"{t!r} is not a DashScope Qwen-Omni realtime server event")
        if self.finished:
            fail(f"{t} received after session.finished")
        for name, want in REQUIRED_FIELDS.get(t, {}).items():
            if name not in ev:
                fail(f"{t} has no '{name}'")
            if not _check_type(ev[name], want):
                fail(f"{t}.{name} must be a JSON {_TYPE_NAMES[want]}, got {json.dumps(ev[name])[:80]}")
        for name in ("output_index", "content_index"):
            if name in ev and not (_is_int(ev[name]) and ev[name] == 0):
                fail(f"{t}.{name} = {json.dumps(ev[name])}, expected 0")

        if idx == 0 and t != "session.created":
            fail(f"first server event must be session.created, got {t}")
        if t == "session.created":
            if idx != 0:
                fail("session.created sent more than once / not first")
            sid = ev["session"].get("id")
            if not isinstance(sid, str) or not sid:
                fail(f"session.created has no session.id (the SDK dereferences it): {sid!r}")
        elif t == "session.finished":
            if self.open:
                fail(f"session.finished while response(s) {sorted(self.open)} are still open (no response.done)")
            self.finished = True
        elif t == "error":
            err = ev["error"]
            if not isinstance(err.get("message"), str):
                fail(f"error event without string error.message: {json.dumps(err)[:200]}")
            if not self.allow_error:
                fail(f"server sent error: type={err.get('type')} code={err.get('code')} "
                     f"param={err.get('param')} message={err.get('message')!r}")
        elif t in ("input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped"):
            k = "audio_start_ms" if t.endswith("started") else "audio_end_ms"
            if ev[k] < 0:
                fail(f"{t}.{k} = {ev[k]} is negative")
        elif t == "conversation.item.created":
            item = ev["item"]
            if not isinstance(item.get("id"), str) or not item.get("id"):
                fail("conversation.item.created item has no id")
            if not isinstance(item.get("type"), str):
                fail("conversation.item.created item has no type")

        if t == "response.created":
            r = ev["response"]
            rid = r.get("id")
            if not isinstance(rid, str) or not rid:
                fail(f"response.created has no response.id (the SDK dereferences it): {rid!r}")
            if rid in self.responses:
                fail(f"response.created repeated for {rid}")
            if r.get("status") != "in_progress":
                fail(f"response.created status = {r.get('status')!r}, expected in_progress")
            self.responses[rid] = ResponseRecord(rid, idx, [ev])
            self.open.add(rid)
        elif t == "response.done":
            r = ev["response"]
            rid = r.get("id")
            if rid not in self.open:
                state = "already done" if rid in self.responses else "never created"
                fail(f"response.done for {rid!r}, which is {state}")
            if not isinstance(r.get("status"), str):
                fail(f"response.done for {rid} has no string status")
            if not isinstance(r.get("output"), list):
                fail(f"response.done for {rid} has no output array")
            _check_usage(r.get("usage"), rid)
            self.open.discard(rid)
            self.responses[rid].done = ev
            self.responses[rid].events.append(ev)
        elif t.startswith(RESPONSE_SCOPED_PREFIX):
            rid = ev.get("response_id")
            if rid not in self.open:
                state = "already done (event after response.done)" if rid in self.responses else "never created"
                fail(f"{t} for response {rid!r}, which is {state}")
            if t == "response.audio.delta":
                try:
                    pcm = base64.b64decode(ev["delta"], validate=True)
                except (binascii.Error, ValueError) as e:
                    fail(f"response.audio.delta.delta is not valid base64: {e}")
                if not pcm or len(pcm) % 2:
                    fail(f"response.audio.delta decodes to {len(pcm)} bytes (expected non-empty, even: PCM16)")
            self.responses[rid].events.append(ev)
        self.events.append(ev)
        return ev

    def index_of(self, pred: Callable[[Dict[str, Any]], bool], start: int = 0) -> int:
        for i in range(start, len(self.events)):
            if pred(self.events[i]):
                return i
        return -1

    def summary(self) -> str:
        out: List[str] = []
        for e in self.events:
            t = e.get("type", "?")
            if out and out[-1].split(" x")[0] == t:
                n = int(out[-1].split(" x")[1]) + 1 if " x" in out[-1] else 2
                out[-1] = f"{t} x{n}"
            else:
                out.append(t)
        return ", ".join(out) or "(none)"


def _check_usage(usage: Any, rid: str) -> None:
    if usage is None:
        return
    if not isinstance(usage, dict):
        fail(f"response.done {rid}: usage is not an object")
    for bad, good in (("input_token_details", "input_tokens_details"),
                      ("output_token_details", "output_tokens_details")):
        if bad in usage:
            fail(f"response.done {rid}: usage.{bad} is the OpenAI spelling; DashScope uses usage.{good}")
    for k in ("total_tokens", "input_tokens", "output_tokens"):
        if k in usage and not _is_int(usage[k]):
            fail(f"response.done {rid}: usage.{k} is not an integer: {usage[k]!r}")
    for k in ("input_tokens_details", "output_tokens_details"):
        if k in usage:
            d = usage[k]
            if not isinstance(d, dict) or any(not _is_int(v) for v in d.values() if not isinstance(v, dict)):
                fail(f"response.done {rid}: usage.{k} must be an object of integer counts: {d!r}")


# --------------------------------------------------------------------------------------
# Whole-turn check (used live after end_session, and by --self-check)
# --------------------------------------------------------------------------------------

def check_response(rec: ResponseRecord) -> str:
    """A completed response with one assistant audio message; returns the transcript."""
    if rec.done is None:
        fail(f"response {rec.id} has no response.done")
    resp = rec.done["response"]
    if resp.get("status") != "completed":
        fail(f"response {rec.id} ended with status {resp.get('status')!r} "
             f"(status_details={resp.get('status_details')})")
    types = [e["type"] for e in rec.events]
    for required in ("response.audio.delta", "response.audio_transcript.delta",
                     "response.audio_transcript.done", "response.audio.done"):
        if required not in types:
            fail(f"response {rec.id} has no {required} (got: {sorted(set(types))})")
    if "response.text.delta" in types:
        fail(f"response {rec.id}: response.text.delta in text+audio mode "
             "(DashScope sends the text as response.audio_transcript.delta)")
    audio_bytes = 0
    parts: List[str] = []
    done_text: Optional[str] = None
    audio_done = transcript_done = False
    item_ids: Set[str] = set()
    for e in rec.events:
        t = e["type"]
        if t == "response.audio.delta":
            if audio_done:
                fail(f"response {rec.id}: response.audio.delta after response.audio.done")
            audio_bytes += len(base64.b64decode(e["delta"]))
            item_ids.add(e["item_id"])
        elif t == "response.audio.done":
            audio_done = True
        elif t == "response.audio_transcript.delta":
            if transcript_done:
                fail(f"response {rec.id}: response.audio_transcript.delta after response.audio_transcript.done")
            parts.append(e["delta"])
            item_ids.add(e["item_id"])
        elif t == "response.audio_transcript.done":
            if transcript_done:
                fail(f"response {rec.id}: response.audio_transcript.done twice")
            transcript_done = True
            done_text = e["transcript"]
            item_ids.add(e["item_id"])
    if len(item_ids) != 1:
        fail(f"response {rec.id}: audio/transcript events name {len(item_ids)} item ids {sorted(item_ids)}")
    joined = "".join(parts)
    if joined != done_text:
        fail(f"response {rec.id}: transcript deltas {joined!r} != response.audio_transcript.done.transcript "
             f"{done_text!r}")
    if not joined.strip():
        fail(f"response {rec.id}: empty transcript")
    out_ids = [o.get("id") for o in resp["output"] if isinstance(o, dict)]
    (item_id,) = item_ids
    if item_id not in out_ids:
        fail(f"response.done output ids {out_ids} do not include the assistant item {item_id}")
    print(f"   response {rec.id}: {audio_bytes} audio bytes (~{audio_bytes / 48:.0f} ms @24k), "
          f"transcript {joined!r}", flush=True)
    return joined


def check_turn(ck: EventChecker, mode: str, *, total_ms: Optional[int] = None,
               create_response_index: Optional[int] = None, require_finished: bool = True) -> ResponseRecord:
    """mode 'vad': speech_started < speech_stopped < committed (same item) -> response.
    mode 'manual': no VAD events, committed -> response (created after response.create was sent)."""
    ev = ck.events
    upd = ck.index_of(lambda e: e["type"] == "session.updated")
    if upd < 0:
        fail("no session.updated")
    td = ev[upd]["session"].get("turn_detection", "<absent>")
    if mode == "vad":
        if not isinstance(td, dict) or td.get("type") != "server_vad":
            fail(f"session.updated turn_detection = {json.dumps(td)}, expected server_vad")
    elif td is not None:
        fail(f"session.updated turn_detection = {json.dumps(td)}, expected null (manual mode)")
    mods = ev[upd]["session"].get("modalities")
    if not isinstance(mods, list) or sorted(mods) != ["audio", "text"]:
        fail(f"session.updated modalities = {json.dumps(mods)}, expected ['text','audio']")

    committed = ck.index_of(lambda e: e["type"] == "input_audio_buffer.committed")
    if committed < 0:
        fail("no input_audio_buffer.committed")
    item_id = ev[committed]["item_id"]
    if mode == "vad":
        s = ck.index_of(lambda e: e["type"] == "input_audio_buffer.speech_started")
        p = ck.index_of(lambda e: e["type"] == "input_audio_buffer.speech_stopped")
        if s < 0 or p < 0:
            fail("VAD mode: no input_audio_buffer.speech_started / speech_stopped")
        if not s < p < committed:
            fail("VAD mode: expected speech_started < speech_stopped < committed")
        if ev[s]["item_id"] != item_id or ev[p]["item_id"] != item_id:
            fail(f"VAD item ids differ: started={ev[s]['item_id']} stopped={ev[p]['item_id']} committed={item_id}")
        a, b = ev[s]["audio_start_ms"], ev[p]["audio_end_ms"]
        if not a < b or (total_ms is not None and b > total_ms + 50):
            fail(f"implausible VAD times: audio_start_ms={a} audio_end_ms={b} (appended {total_ms} ms)")
        print(f"   VAD: speech {a}..{b} ms, item {item_id}", flush=True)
    else:
        if ck.index_of(lambda e: e["type"].startswith("input_audio_buffer.speech_")) >= 0:
            fail("manual mode (turn_detection null): server sent VAD speech_started/stopped events")
        if ck.index_of(lambda e: e["type"] == "input_audio_buffer.committed", committed + 1) >= 0:
            fail("manual mode: more than one input_audio_buffer.committed for one commit")
    if ck.index_of(lambda e: e["type"] == "conversation.item.created" and e["item"].get("id") == item_id) < 0:
        fail(f"no conversation.item.created for the committed user item {item_id}")

    recs = [r for r in ck.responses.values() if r.created_index > committed]
    if not recs:
        fail("no response.created after input_audio_buffer.committed")
    if any(r.created_index < committed for r in ck.responses.values()):
        fail("response.created before the user audio was committed")
    if len(recs) != 1:
        fail(f"expected one response for the turn, got {len(recs)}: {[r.id for r in recs]}")
    rec = recs[0]
    if mode == "manual" and create_response_index is not None and rec.created_index < create_response_index:
        fail("manual mode: response.created before the client sent response.create")
    check_response(rec)
    if require_finished:
        if not ck.finished:
            fail("no session.finished")
        if ev[-1]["type"] != "session.finished":
            fail(f"session.finished is not the last event (last: {ev[-1]['type']})")
    return rec


# --------------------------------------------------------------------------------------
# Live run through the SDK
# --------------------------------------------------------------------------------------

class _Closed:
    def __init__(self, code: Any, msg: Any) -> None:
        self.code, self.msg = code, msg


class _SdkLogErrors(logging.Handler):
    """Collects ERROR records of the SDK and websocket-client loggers."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
        except Exception:  # pragma: no cover
            msg = str(record.msg)
        # websocket-client >= 1.9 turns every close frame into an error: it logs
        # "Connection closed normally (code 1000) - goodbye" itself and passes it to on_error,
        # which the SDK logs as "websocket error: Connection closed ...". The close also
        # reaches on_close and is judged there.
        if msg.startswith(("websocket error: Connection closed", "Connection closed")):
            return
        self.records.append(f"{record.name}: {msg}")


def _make_callback(q: "queue.Queue[Any]") -> Any:
    from dashscope.audio.qwen_omni import OmniRealtimeCallback

    class Callback(OmniRealtimeCallback):
        def __init__(self) -> None:
            self.opened = threading.Event()

        def on_open(self) -> None:
            self.opened.set()

        def on_event(self, response: Dict[str, Any]) -> None:  # type: ignore[override]
            q.put(response)

        def on_close(self, close_status_code: Any, close_msg: Any) -> None:
            q.put(_Closed(close_status_code, close_msg))

    return Callback()


class Session:
    def __init__(self, args: argparse.Namespace, *, allow_error: bool = False) -> None:
        self.args = args
        self.deadline = time.monotonic() + args.timeout
        self.q: "queue.Queue[Any]" = queue.Queue()
        self.ck = EventChecker(allow_error=allow_error)
        self.closed: Optional[_Closed] = None
        self.cursor = 0  # wait_for() searches self.ck.events from here
        self.waiting_for = "connect"
        self.log = _SdkLogErrors()
        for name in ("dashscope", "websocket"):
            logging.getLogger(name).addHandler(self.log)
        self.callback = _make_callback(self.q)
        from dashscope.audio.qwen_omni import OmniRealtimeConversation
        # The SDK's own `headers=` argument is how a client picks a cassette on a
        # replaying mock (the SDK builds the query string itself).
        headers = {"X-Understudy-Cassette": args.cassette} if args.cassette else None
        self.conv = OmniRealtimeConversation(model=args.model, callback=self.callback, url=args.url,
                                             api_key=args.api_key, headers=headers)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def timeout_failure(self) -> HarnessFailure:
        return HarnessFailure(f"timeout after {self.args.timeout:g}s waiting for {self.waiting_for}; "
                              f"events so far: {self.ck.summary()}")

    def _check_logs(self) -> None:
        if self.log.records:
            fail(f"the SDK logged an error while handling server frames: {self.log.records[0]}")

    def _handle(self, item: Any, *, close_ok: bool = False) -> Optional[Dict[str, Any]]:
        if isinstance(item, _Closed):
            self.closed = item
            if not close_ok:
                fail(f"connection closed (code={item.code} reason={item.msg!r}) while waiting for "
                     f"{self.waiting_for}; events so far: {self.ck.summary()}")
            return None
        if self.closed is not None:
            fail(f"event after the connection closed: {item}")
        ev = self.ck.feed(item)
        print(f"<- {ev['type']}", flush=True)
        self._check_logs()
        return ev

    def pump(self, *, close_ok: bool = False) -> None:
        """Process everything already queued, without blocking."""
        while True:
            try:
                item = self.q.get_nowait()
            except queue.Empty:
                break
            self._handle(item, close_ok=close_ok)
        self._check_logs()

    def wait_for(self, what: str, pred: Callable[[Dict[str, Any]], bool]) -> Dict[str, Any]:
        """Next event (after the previous wait's match) satisfying pred; events already
        processed by pump() count."""
        self.waiting_for = what
        i = self.ck.index_of(pred, self.cursor)
        if i >= 0:
            self.cursor = i + 1
            return self.ck.events[i]
        self.cursor = len(self.ck.events)
        while True:
            left = self.remaining()
            if left <= 0:
                raise self.timeout_failure()
            try:
                item = self.q.get(timeout=min(left, 0.2))
            except queue.Empty:
                self._check_logs()
                continue
            ev = self._handle(item)
            self.cursor = len(self.ck.events)
            if ev is not None and pred(ev):
                return ev

    def wait_type(self, t: str) -> Dict[str, Any]:
        return self.wait_for(t, lambda e: e["type"] == t)

    def wait_closed(self, what: str) -> _Closed:
        self.waiting_for = what
        while self.closed is None:
            left = self.remaining()
            if left <= 0:
                raise self.timeout_failure()
            try:
                item = self.q.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            self._handle(item, close_ok=True)
        return self.closed

    # -- client calls ---------------------------------------------------------------

    def connect(self) -> None:
        _sent(f"connect {self.conv.url}")
        try:
            self.conv.connect()  # blocks until the socket is open (SDK: at most 5 s)
        except Exception as e:
            fail(f"OmniRealtimeConversation.connect() to {self.conv.url} failed: {type(e).__name__}: {e}")
        if not self.callback.opened.is_set():
            fail("connect() returned without calling callback.on_open()")

    def update_session(self, vad: bool) -> None:
        from dashscope.audio.qwen_omni import AudioFormat, AudioFormatConfig, MultiModality
        kw: Dict[str, Any] = dict(
            output_modalities=[MultiModality.TEXT, MultiModality.AUDIO],
            voice=self.args.voice,
            enable_input_audio_transcription=True,
            enable_turn_detection=vad,
            turn_detection_type="server_vad",
            turn_detection_threshold=0.5,
            prefix_padding_ms=300,
            turn_detection_silence_duration_ms=800,
        )
        if self.args.audio_config == "nested":
            kw.update(input_audio_config=AudioFormatConfig(type="pcm", sample_rate=16000),
                      output_audio_config=AudioFormatConfig(type="pcm", sample_rate=24000))
        else:
            kw.update(input_audio_format=AudioFormat.PCM_16000HZ_MONO_16BIT,
                      output_audio_format=AudioFormat.PCM_24000HZ_MONO_16BIT)
        _sent("session.update (update_session)")
        self.conv.update_session(**kw)  # does not wait for session.updated

    def stream_audio(self, path: str) -> int:
        with wave.open(path, "rb") as w:
            if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, 16000):
                fail(f"{path}: need mono 16-bit 16000 Hz, got {w.getnchannels()} ch, "
                     f"{8 * w.getsampwidth()} bit, {w.getframerate()} Hz")
            pcm = w.readframes(w.getnframes())
        pcm += bytes(16000 * 2)  # + 1 s of silence so a VAD surely sees the end of speech
        chunk = 3200  # 100 ms of 16 kHz PCM16
        n = 0
        self.waiting_for = "(streaming audio)"
        _sent(f"input_audio_buffer.append ... (append_audio: {os.path.basename(path)} + 1 s silence, "
              "100 ms chunks every 20 ms)")
        for off in range(0, len(pcm), chunk):
            if self.remaining() <= 0:
                raise self.timeout_failure()
            self.conv.append_audio(base64.b64encode(pcm[off:off + chunk]).decode("ascii"))
            n += 1
            time.sleep(0.02)
            self.pump()
        total_ms = len(pcm) // 32
        print(f"   appended {n} chunks ({total_ms} ms of audio)", flush=True)
        return total_ms

    def end_session(self) -> None:
        self.pump()
        self.waiting_for = "session.finished (end_session)"
        left = self.remaining()
        if left <= 0:
            raise self.timeout_failure()
        _sent("session.finish (end_session)")
        t0 = time.monotonic()
        try:
            self.conv.end_session(timeout=left)
        except TimeoutError:
            raise self.timeout_failure()
        except Exception as e:
            self.pump()
            fail(f"end_session() raised {type(e).__name__}: {e}; events so far: {self.ck.summary()}")
        print(f"   end_session() returned after {time.monotonic() - t0:.2f}s", flush=True)
        # session.finished was handed to on_event before end_session() was released.
        while not self.ck.finished:
            try:
                item = self.q.get(timeout=1.0)
            except queue.Empty:
                fail("end_session() returned but no session.finished event was delivered")
            self._handle(item)
        closed = self.wait_closed("the server to close the socket after session.finished")
        print(f"   socket closed by server: code={closed.code} reason={closed.msg!r}", flush=True)
        th = getattr(self.conv, "thread", None)
        if th is not None:
            th.join(timeout=max(0.1, min(2.0, self.remaining())))
            if th.is_alive():
                fail("the SDK's websocket thread is still running after the close")
        self._check_logs()

    def shutdown(self) -> None:
        for name in ("dashscope", "websocket"):
            logging.getLogger(name).removeHandler(self.log)
        try:
            if self.conv.ws is not None and self.closed is None:
                self.conv.close()
        except Exception:
            pass


def _sent(what: str) -> None:
    print(f"-> {what}", flush=True)


def run_turn(args: argparse.Namespace, mode: str) -> int:
    s = Session(args)
    try:
        s.connect()
        s.wait_type("session.created")
        s.update_session(vad=(mode == "vad"))
        s.wait_type("session.updated")
        total_ms = s.stream_audio(args.audio)
        create_idx: Optional[int] = None
        if mode == "vad":
            s.wait_type("input_audio_buffer.speech_started")
            s.wait_type("input_audio_buffer.speech_stopped")
            s.wait_type("input_audio_buffer.committed")
        else:
            s.pump()
            _sent("input_audio_buffer.commit (commit)")
            s.conv.commit()
            s.wait_type("input_audio_buffer.committed")
            s.pump()
            create_idx = len(s.ck.events)
            _sent("response.create (create_response)")
            s.conv.create_response()
        created = s.wait_type("response.created")
        rid = created["response"]["id"]
        s.wait_for(f"response.done for {rid}",
                   lambda e: e["type"] == "response.done" and e["response"].get("id") == rid)
        s.end_session()
        check_turn(s.ck, mode, total_ms=total_ms, create_response_index=create_idx)
    finally:
        s.shutdown()
    print(f"OK {mode} {len(s.ck.events)} events", flush=True)
    return 0


def run_setup_error(args: argparse.Namespace) -> int:
    s = Session(args, allow_error=True)
    try:
        s.connect()
        s.wait_type("session.created")
        try:
            s.update_session(vad=True)
        except Exception as e:  # the SDK only sends; it never raises for a server error here
            print(f"   update_session() raised {type(e).__name__}: {e}", flush=True)
            fail(f"update_session() raised {type(e).__name__}: {e} (expected the error as an event)")
        ev = s.wait_for("error (answer to session.update)",
                        lambda e: e["type"] in ("error", "session.updated"))
        if ev["type"] == "session.updated":
            fail("server answered session.update with session.updated, expected an error event")
        err = ev["error"]
        print(f"   error type={err.get('type')} code={err.get('code')} param={err.get('param')} "
              f"message={err.get('message')!r}", flush=True)
        time.sleep(0.2)
        s.pump(close_ok=True)  # the server may keep the session open or close it after the error
        if s.closed is not None:
            print(f"   server closed after the error: code={s.closed.code} reason={s.closed.msg!r}", flush=True)
        if s.ck.index_of(lambda e: e["type"] == "session.updated") >= 0:
            fail("session.updated sent after the error")
    finally:
        s.shutdown()
    print("OK setup-error", flush=True)
    return 0


# --------------------------------------------------------------------------------------
# --self-check: the checks on synthetic sequences (samples from the protocol notes)
# --------------------------------------------------------------------------------------

def _b64(n_bytes: int) -> str:
    return base64.b64encode(bytes(n_bytes)).decode("ascii")


def synthetic_turn(mode: str = "vad") -> List[Dict[str, Any]]:
    """A turn shaped like protocol §6.1 / §6.2 (examples from §3 / §5)."""
    n = iter(range(1, 1000))

    def e(t: str, **kw: Any) -> Dict[str, Any]:
        return {"event_id": f"event_S{next(n):03d}", "type": t, **kw}

    vad = {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 800,
           "create_response": True, "interrupt_response": True}
    session = {"id": "sess_Hn41", "object": "realtime.session", "model": "qwen3-omni-flash-realtime",
               "modalities": ["text", "audio"], "voice": "Cherry", "input_audio_format": "pcm",
               "output_audio_format": "pcm", "input_audio_transcription": {"model": "qwen3-asr-flash-realtime"},
               "turn_detection": vad, "tools": [], "tool_choice": "auto", "temperature": 0.8}
    updated = dict(session, turn_detection=vad if mode == "vad" else None)
    user, asst, rid = "item_U1", "item_A1", "resp_R1"
    sc = {"response_id": rid, "item_id": asst, "output_index": 0, "content_index": 0}
    out: List[Dict[str, Any]] = [e("session.created", session=session), e("session.updated", session=updated)]
    if mode == "vad":
        out += [e("input_audio_buffer.speech_started", audio_start_ms=300, item_id=user),
                e("input_audio_buffer.speech_stopped", audio_end_ms=3100, item_id=user)]
    out += [
        e("input_audio_buffer.committed", item_id=user, previous_item_id=None),
        e("conversation.item.created", previous_item_id=None,
          item={"id": user, "object": "realtime.item", "type": "message", "status": "completed", "role": "user",
                "content": [{"type": "input_audio", "transcript": None}]}),
        e("conversation.item.input_audio_transcription.completed", item_id=user, content_index=0,
          transcript="What is the weather like in Paris today?"),
        e("response.created", response={"id": rid, "object": "realtime.response", "conversation_id": "conv_1",
                                        "status": "in_progress", "modalities": ["text", "audio"],
                                        "voice": "Cherry", "output_audio_format": "pcm", "output": []}),
        e("response.output_item.added", response_id=rid, output_index=0,
          item={"id": asst, "object": "realtime.item", "type": "message", "status": "in_progress",
                "role": "assistant", "content": []}),
        e("conversation.item.created", previous_item_id=user,
          item={"id": asst, "object": "realtime.item", "type": "message", "status": "in_progress",
                "role": "assistant", "content": []}),
        e("response.content_part.added", **sc, part={"type": "audio", "text": ""}),
        e("response.audio_transcript.delta", **sc, delta="It is sunny"),
        e("response.audio.delta", **sc, delta=_b64(4800)),
        e("response.audio_transcript.delta", **sc, delta=" in Paris."),
        e("response.audio.delta", **sc, delta=_b64(4800)),
        e("response.audio_transcript.done", **sc, transcript="It is sunny in Paris."),
        e("response.audio.done", **sc),
        e("response.content_part.done", **sc, part={"type": "audio", "text": "It is sunny in Paris."}),
        e("response.output_item.done", response_id=rid, output_index=0,
          item={"id": asst, "object": "realtime.item", "type": "message", "status": "completed",
                "role": "assistant", "content": [{"type": "audio", "transcript": "It is sunny in Paris."}]}),
        e("response.done", response={
            "id": rid, "object": "realtime.response", "conversation_id": "conv_1", "status": "completed",
            "modalities": ["text", "audio"], "voice": "Cherry", "output_audio_format": "pcm",
            "output": [{"id": asst, "object": "realtime.item", "type": "message", "status": "completed",
                        "role": "assistant",
                        "content": [{"type": "audio", "transcript": "It is sunny in Paris."}]}],
            "usage": {"total_tokens": 377, "input_tokens": 336, "output_tokens": 41,
                      "input_tokens_details": {"text_tokens": 228, "audio_tokens": 108},
                      "output_tokens_details": {"text_tokens": 9, "audio_tokens": 32}}}),
        e("session.finished"),
    ]
    return out


def _mutate(seq: List[Dict[str, Any]], t: str, fn: Callable[[Dict[str, Any]], Optional[Dict[str, Any]]],
            nth: int = 0) -> List[Dict[str, Any]]:
    out = json.loads(json.dumps(seq))
    hits = [i for i, e in enumerate(out) if e["type"] == t]
    i = hits[nth]
    new = fn(out[i])
    if new is None:
        del out[i]
    else:
        out[i] = new
    return out


def _without(d: Dict[str, Any], *keys: str) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}


def self_check() -> int:
    vad, manual = synthetic_turn("vad"), synthetic_turn("manual")
    done_i = next(i for i, e in enumerate(vad) if e["type"] == "response.done")
    late_delta = json.loads(json.dumps(vad))
    late_delta.insert(done_i + 1, dict(next(e for e in vad if e["type"] == "response.audio.delta"),
                                       event_id="event_late"))
    swapped = json.loads(json.dumps(vad))
    swapped[0], swapped[1] = swapped[1], swapped[0]
    setup_error = [vad[0], {"event_id": "event_RoU1", "type": "error", "error": {
        "type": "invalid_request_error", "code": "invalid_value", "param": "session.modalities",
        "message": "Invalid modalities: ['audio']. Supported combinations are: ['text'] and ['audio', 'text']."}}]

    def usage(key_in: str) -> Callable[[Dict[str, Any]], Dict[str, Any]]:
        def f(e: Dict[str, Any]) -> Dict[str, Any]:
            u = e["response"]["usage"]
            u[key_in] = u.pop("input_tokens_details")
            return e
        return f

    Case = typing.Tuple[str, List[Dict[str, Any]], str, bool]
    cases: List[Case] = [
        ("valid VAD turn (protocol §6.1)", vad, "vad", True),
        ("valid manual turn (protocol §6.2)", manual, "manual", True),
        ("setup error answered with error event (protocol §6.5)", setup_error, "setup-error", True),
        # --- must be rejected ---
        ("GA name response.output_audio.delta", _mutate(vad, "response.audio.delta",
                                                        lambda e: dict(e, type="response.output_audio.delta")),
         "vad", False),
        ("GA name conversation.item.added", _mutate(vad, "conversation.item.created",
                                                    lambda e: dict(e, type="conversation.item.added")),
         "vad", False),
        ("audio delta missing event_id", _mutate(vad, "response.audio.delta", lambda e: _without(e, "event_id")),
         "vad", False),
        ("session.created missing event_id", _mutate(vad, "session.created", lambda e: _without(e, "event_id")),
         "vad", False),
        ("session.created not first", swapped, "vad", False),
        ("session.created without session.id",
         _mutate(vad, "session.created", lambda e: dict(e, session=_without(e["session"], "id"))), "vad", False),
        ("response.created without response.id",
         _mutate(vad, "response.created", lambda e: dict(e, response=_without(e["response"], "id"))),
         "vad", False),
        ("audio delta output_index 1", _mutate(vad, "response.audio.delta", lambda e: dict(e, output_index=1)),
         "vad", False),
        ("audio delta content_index as string",
         _mutate(vad, "response.audio.delta", lambda e: dict(e, content_index="0")), "vad", False),
        ("audio delta of odd length", _mutate(vad, "response.audio.delta", lambda e: dict(e, delta=_b64(3))),
         "vad", False),
        ("usage spelled input_token_details (OpenAI)", _mutate(vad, "response.done", usage("input_token_details")),
         "vad", False),
        ("audio delta after response.done", late_delta, "vad", False),
        ("transcript deltas != transcript.done",
         _mutate(vad, "response.audio_transcript.done", lambda e: dict(e, transcript="Something else.")),
         "vad", False),
        ("no response.audio.delta at all", [e for e in vad if e["type"] != "response.audio.delta"], "vad", False),
        ("VAD turn without speech_stopped",
         _mutate(vad, "input_audio_buffer.speech_stopped", lambda e: None), "vad", False),
        ("manual turn with VAD turn_detection", _mutate(manual, "session.updated",
                                                        lambda e: dict(e, session=vad[1]["session"])),
         "manual", False),
        ("unexpected error event in a turn", _mutate(vad, "session.finished", lambda e: setup_error[1]),
         "vad", False),
        ("no session.finished", vad[:-1], "vad", False),
        ("unknown event type", _mutate(vad, "response.audio.done", lambda e: dict(e, type="response.audio.end")),
         "vad", False),
    ]
    bad = 0
    for name, seq, mode, ok in cases:
        ck = EventChecker(allow_error=(mode == "setup-error"))
        try:
            for ev in seq:
                ck.feed(ev)
            if mode != "setup-error":
                check_turn(ck, mode)
            got, why = True, ""
        except HarnessFailure as f:
            got, why = False, str(f)
        status = "PASS" if got == ok else "FAIL"
        bad += status == "FAIL"
        print(f"{status} [{mode}] {name}: {'accepted' if got else 'rejected'} "
              f"(expected {'accepted' if ok else 'rejected'})" + (f"\n       -> {why}" if why else ""), flush=True)
    if bad:
        print(f"FAIL: self-check: {bad} case(s) wrong", flush=True)
        return 1
    print(f"OK self-check {len(cases)} cases", flush=True)
    return 0


# --------------------------------------------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="e.g. ws://127.0.0.1:PORT/api-ws/v1/realtime (the SDK appends ?model=)")
    p.add_argument("--model", default="qwen3-omni-flash-realtime")
    p.add_argument("--api-key", default="sk-test")
    p.add_argument("--cassette", default=None,
                   help="replay engine: cassette to play (sent as the X-Understudy-Cassette header)")
    p.add_argument("--scenario", choices=["vad", "manual"], default="vad")
    p.add_argument("--audio", default=DEFAULT_AUDIO, help="16 kHz mono PCM16 WAV (default: %(default)s)")
    p.add_argument("--voice", default="Cherry")
    p.add_argument("--audio-config", choices=["legacy", "nested"], default="legacy",
                   help="legacy: update_session(input_audio_format=AudioFormat..., output_audio_format=...) -> "
                        "flat input/output_audio_format 'pcm16'; nested: AudioFormatConfig -> "
                        "session.audio.{input,output}.format{type,sample_rate}")
    p.add_argument("--timeout", type=float, default=20.0, help="overall timeout in seconds (default 20)")
    p.add_argument("--expect-setup-error", action="store_true",
                   help="require the server to answer session.update with an error event (no session.updated)")
    p.add_argument("--self-check", action="store_true", help="test the checks offline and exit")
    args = p.parse_args()

    if args.self_check:
        return self_check()
    if not args.url:
        p.error("--url is required")
    if "?" in args.url:
        p.error("--url must not contain a query string (the SDK appends ?model=...)")
    label = "setup-error" if args.expect_setup_error else args.scenario
    t0 = time.monotonic()
    try:
        if args.expect_setup_error:
            return run_setup_error(args)
        return run_turn(args, args.scenario)
    except HarnessFailure as f:
        print(f"FAIL: {label}: {f} ({time.monotonic() - t0:.1f}s)", flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # an SDK call raised (e.g. ConnectionError after the server closed)
        import traceback
        traceback.print_exc()
        print(f"FAIL: {label}: unexpected {type(e).__name__}: {e} ({time.monotonic() - t0:.1f}s)", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
