#!/usr/bin/env python3
"""Drive a qwen3.8-omni realtime session with the *unmodified* official `dashscope`
SDK's v2 client (`dashscope.Client(...).audio.realtime.connect(model=..., ws_url=...)`,
pinned 2.0.2) against a mock, and check what the SDK sends and every server event.

    PY=$(scripts/python-env.sh | tail -n1)
    $PY tests/sdk/dashscope_omni38.py --url ws://127.0.0.1:PORT/api-ws/v1/realtime [--cassette dashscope/v38-tool-round-trip] [--busy]
    $PY tests/sdk/dashscope_omni38.py --self-check

The scenario (protocol notes §10):
  1. connect with a workspace (the SDK sends `X-DashScope-WorkSpace`) through `ws_url`;
     `session.created` first, with `session.id` and the 3.8 nested `audio` object;
  2. `update_session(...)` as the SDK builds it for the "omni_v38" dialect: voice and
     formats nested under `audio.input` / `audio.output` (checked on the wire),
     `tools` passed through; `session.updated` echoes the nested voice, the tools and
     `turn_detection.create_response` / `interrupt_response: true`;
  3. a spoken turn (server VAD over the bundled 16 kHz weather question) answered by
     a function call: `response.output_item.added {type: function_call, call_id, name}`,
     `response.function_call_arguments.delta`..., `...done {call_id, name, arguments}`,
     `response.done`;
  4. the tool result as a conversation item (`create_item(function_call_output)`,
     answered by `conversation.item.created`), then `create_response()` — bare on 3.8
     (checked on the wire) — answered by a spoken response that reads the result back;
     with --busy, a second `create_response()` while that response runs gets an
     `error` (the SDK raises it as a recoverable DashScopeError) and the session goes on;
  5. `end_session()`: `session.finish`, then the server closes without
     `session.finished` (the SDK's 3.8 dialect does not wait for one).

The SDK has no typed server-event models for this API, so events are checked with the
same explicit checker as the legacy harness (`dashscope_omni_turn.EventChecker`, plus
`check_response` for the spoken answer). A connector wraps the SDK's own websocket only
to record the frames it sends; the SDK is not changed.

Output: `<- type` / `-> type` lines, then `OK v38 <N> events` (exit 0) or `FAIL: ...`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
import wave
from typing import Any, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashscope_omni_turn import (  # noqa: E402
    EventChecker, HarnessFailure, check_response, fail)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_AUDIO = os.path.join(REPO_ROOT, "fixtures", "audio", "user-weather-16k.wav")
MODEL = "qwen3.8-omni-flash-realtime"
WORKSPACE = "ws-understudy"
VOICE = "Tina"
TOOL_RESULT = '{"temperature_c":18,"sky":"clear"}'
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                   "required": ["city"]}}}


class Recording:
    """The SDK's websocket, recording what the SDK sends (everything else passes through)."""

    def __init__(self, ws: Any, sent: List[Dict[str, Any]]) -> None:
        self._ws = ws
        self._sent = sent

    def send(self, raw: Any) -> Any:
        self._sent.append(json.loads(raw))
        return self._ws.send(raw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


# --------------------------------------------------------------------------------------
# Checks of what the SDK sent (pure, used live and by --self-check)
# --------------------------------------------------------------------------------------

def check_session_update(frame: Dict[str, Any]) -> None:
    session = frame.get("session")
    if frame.get("type") != "session.update" or not isinstance(session, dict):
        fail(f"expected a session.update, the SDK sent {json.dumps(frame)[:200]}")
    for flat in ("voice", "input_audio_format", "output_audio_format"):
        if flat in session:
            fail(f"the 3.8 session carries flat '{flat}' (the SDK nests it under audio)")
    audio = session.get("audio") or {}
    if (audio.get("output") or {}).get("voice") != VOICE:
        fail(f"audio.output.voice is not {VOICE!r}: {json.dumps(audio)}")
    if ((audio.get("input") or {}).get("format") or {}).get("sample_rate") != 16000:
        fail(f"audio.input.format.sample_rate is not 16000: {json.dumps(audio)}")


def check_session_updated(ev: Dict[str, Any]) -> None:
    s = ev["session"]
    voice = ((s.get("audio") or {}).get("output") or {}).get("voice")
    if voice != VOICE:
        fail(f"session.updated does not echo audio.output.voice {VOICE!r}: {json.dumps(s)[:300]}")
    names = [((t or {}).get("function") or {}).get("name") for t in s.get("tools") or []]
    if names != ["get_weather"]:
        fail(f"session.updated tools are {names}, expected ['get_weather']")
    td = s.get("turn_detection") or {}
    if td.get("create_response") is not True or td.get("interrupt_response") is not True:
        fail(f"session.updated turn_detection lacks create_response/interrupt_response true: {td}")


def check_call(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The function-call sequence of one response (§10.6); returns the done event."""
    types = [e["type"] for e in events]
    added = next((e for e in events if e["type"] == "response.output_item.added"
                  and e["item"].get("type") == "function_call"), None)
    if added is None:
        fail(f"no response.output_item.added with a function_call item: {types}")
    item = added["item"]
    for key in ("call_id", "name"):
        if not isinstance(item.get(key), str) or not item[key]:
            fail(f"the function_call item has no {key}: {item}")
    deltas = [e for e in events if e["type"] == "response.function_call_arguments.delta"]
    done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    if not deltas or len(done) != 1:
        fail(f"expected arguments deltas then one done: {types}")
    done_ev = done[0]
    if done_ev.get("name") != item["name"] or done_ev["call_id"] != item["call_id"]:
        fail(f"arguments.done names {done_ev.get('name')!r}/{done_ev['call_id']!r}, "
             f"the item {item['name']!r}/{item['call_id']!r}")
    if "".join(d["delta"] for d in deltas) != done_ev["arguments"]:
        fail("the argument deltas do not add up to arguments.done.arguments")
    json.loads(done_ev["arguments"])
    if types.index("response.function_call_arguments.done") > types.index("response.done"):
        fail("arguments.done after response.done")
    return done_ev


def check_sent(sent: List[Dict[str, Any]]) -> None:
    """The SDK's 3.8 wire: nested session, tool result as an item, bare response.create."""
    kinds = [f.get("type") for f in sent]
    check_session_update(sent[0])
    item = next((f for f in sent if f.get("type") == "conversation.item.create"), None)
    if item is None or item["item"].get("type") != "function_call_output":
        fail(f"the tool result did not go as a function_call_output item: {kinds}")
    i = kinds.index("conversation.item.create")
    if "response.create" not in kinds[i:]:
        fail("no response.create after the tool result")
    create = sent[i + kinds[i:].index("response.create")]
    if "response" in create:
        fail(f"the 3.8 response.create is not bare: {create}")
    if kinds[-1] != "session.finish":
        fail(f"the session did not end with session.finish: {kinds[-3:]}")


# --------------------------------------------------------------------------------------
# The live run
# --------------------------------------------------------------------------------------

class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        import dashscope
        self.args = args
        self.ck = EventChecker(allow_error=args.busy)
        self.sent: List[Dict[str, Any]] = []
        self.deadline = time.monotonic() + args.timeout

        def connector(url: str, headers: Dict[str, str]) -> Any:
            import websocket
            if headers.get("X-DashScope-WorkSpace") != WORKSPACE:
                fail(f"the SDK did not send X-DashScope-WorkSpace: {sorted(headers)}")
            ws = websocket.create_connection(url, header=headers, timeout=args.timeout)
            return Recording(ws, self.sent)

        # The SDK marks its v2 audio API a preview; that notice is not a failure.
        warnings.filterwarnings("ignore", message="dashscope 2.0 audio API is a preview",
                                category=FutureWarning)
        client = dashscope.Client(api_key=args.api_key, workspace=WORKSPACE)
        headers = {"X-Understudy-Cassette": args.cassette} if args.cassette else None
        self.rt = client.audio.realtime.connect(model=MODEL, ws_url=args.url, headers=headers,
                                                connector=connector, timeout=args.timeout)

    def recv(self) -> Optional[Dict[str, Any]]:
        if time.monotonic() > self.deadline:
            fail(f"timeout; events so far: {self.ck.summary()}")
        ev = self.rt.recv_event()
        if ev is None:
            return None
        self.ck.feed(ev)
        print(f"<- {ev['type']}", flush=True)
        return ev

    def until(self, t: str, pred: Any = lambda e: True) -> Dict[str, Any]:
        while True:
            ev = self.recv()
            if ev is None:
                fail(f"closed while waiting for {t}; events: {self.ck.summary()}")
            if ev["type"] == t and pred(ev):
                return ev

    def stream(self) -> None:
        with wave.open(self.args.audio, "rb") as w:
            if w.getframerate() != 16000 or w.getsampwidth() != 2 or w.getnchannels() != 1:
                fail(f"{self.args.audio}: expected 16 kHz mono PCM16")
            pcm = w.readframes(w.getnframes())
        pcm += b"\0" * (32 * 1200)
        for i in range(0, len(pcm), 3200):
            self.rt.append_audio(pcm[i:i + 3200])
        print(f"-> input_audio_buffer.append x{(len(pcm) + 3199) // 3200}", flush=True)

    def run(self) -> int:
        from dashscope.v2.errors import DashScopeError
        self.rt.connect()
        created = self.until("session.created")
        if not isinstance(((created["session"].get("audio") or {}).get("output") or {}).get("voice"), str):
            fail(f"session.created has no nested audio.output.voice: {json.dumps(created['session'])[:300]}")
        self.rt.update_session(
            ["text", "audio"], voice=VOICE,
            input_audio_config={"type": "pcm", "sample_rate": 16000},
            output_audio_config={"type": "pcm", "sample_rate": 24000},
            enable_turn_detection=True, turn_detection_threshold=0.5,
            prefix_padding_ms=300, turn_detection_silence_duration_ms=500,
            instructions="You are a terse assistant used by the Understudy SDK conformance test.",
            tools=[WEATHER_TOOL], tool_choice="auto")
        print("-> session.update", flush=True)
        check_session_update(self.sent[-1])
        check_session_updated(self.until("session.updated"))

        self.stream()
        first = self.until("response.created")
        rid = first["response"]["id"]
        self.until("response.done", lambda e: e["response"]["id"] == rid)
        done = check_call(self.ck.responses[rid].events)
        if done["name"] != "get_weather" or json.loads(done["arguments"]).get("city") != "Paris":
            fail(f"unexpected call {done['name']}({done['arguments']})")

        self.rt.create_item({"type": "function_call_output", "call_id": done["call_id"],
                             "output": TOOL_RESULT})
        print("-> conversation.item.create (function_call_output)", flush=True)
        self.until("conversation.item.created", lambda e: e["item"].get("type") == "function_call_output")
        self.rt.create_response()
        print("-> response.create", flush=True)
        answer = self.until("response.created")
        if self.args.busy:
            self.rt.create_response()
            print("-> response.create (while one runs)", flush=True)
            try:
                while True:
                    self.recv()
            except DashScopeError as e:
                print(f"   refused as expected: {e}", flush=True)
            # The SDK raises the error event instead of returning it.
            err = self.rt.last_message
            if err is None or err.get("type") != "error":
                fail(f"no error event behind the exception: {err}")
            self.ck.feed(err)
            print("<- error", flush=True)
            if err["error"].get("type") != "invalid_request_error":
                fail(f"the second response.create was not refused with invalid_request_error: "
                     f"{self.ck.summary()}")
        aid = answer["response"]["id"]
        self.until("response.done", lambda e: e["response"]["id"] == aid)
        said = check_response(self.ck.responses[aid])
        if "clear" not in said:
            fail(f"the answer does not read the tool result back: {said!r}")

        self.rt.end_session()
        print("-> session.finish", flush=True)
        while self.recv() is not None:
            pass
        if any(e["type"] == "session.finished" for e in self.ck.events):
            fail("session.finished on 3.8 (documented without an acknowledgement)")
        check_sent(self.sent)
        print(f"OK v38 {len(self.ck.events)} events", flush=True)
        return 0


# --------------------------------------------------------------------------------------
# Self-check: the checks above reject broken streams
# --------------------------------------------------------------------------------------

def self_check() -> int:
    good_update = {"type": "session.update", "session": {"modalities": ["text", "audio"], "audio": {
        "input": {"format": {"type": "pcm", "sample_rate": 16000}},
        "output": {"voice": VOICE, "format": {"type": "pcm", "sample_rate": 24000}}}}}
    good_updated = {"type": "session.updated", "event_id": "e", "session": {
        "audio": {"output": {"voice": VOICE}}, "tools": [WEATHER_TOOL],
        "turn_detection": {"type": "server_vad", "create_response": True, "interrupt_response": True}}}

    def call(name_on_done: Optional[str] = "get_weather", split: bool = True) -> List[Dict[str, Any]]:
        base = {"response_id": "r", "item_id": "i", "output_index": 0, "call_id": "c"}
        done = {"type": "response.function_call_arguments.done", **base, "arguments": '{"city":"Paris"}'}
        if name_on_done:
            done["name"] = name_on_done
        return [{"type": "response.created", "response": {"id": "r"}},
                {"type": "response.output_item.added", "item": {"type": "function_call", "call_id": "c",
                                                                "name": "get_weather"}},
                {"type": "response.function_call_arguments.delta", **base, "delta": '{"city":'},
                {"type": "response.function_call_arguments.delta", **base,
                 "delta": '"Paris"}' if split else '"Rome"}'},
                done, {"type": "response.done", "response": {"id": "r"}}]

    sent = [good_update, {"type": "conversation.item.create", "item": {"type": "function_call_output"}},
            {"type": "response.create"}, {"type": "session.finish"}]
    flat = json.loads(json.dumps(good_update))
    flat["session"]["voice"] = VOICE
    updated_no_td = json.loads(json.dumps(good_updated))
    updated_no_td["session"]["turn_detection"].pop("create_response")
    cases = [
        ("flat voice on 3.8", lambda: check_session_update(flat)),
        ("session.updated without create_response", lambda: check_session_updated(updated_no_td)),
        ("arguments.done without the name", lambda: check_call(call(None))),
        ("deltas not adding up", lambda: check_call(call(split=False))),
        ("tool result as a message", lambda: check_sent([good_update, {"type": "conversation.item.create",
                                                        "item": {"type": "message"}}] + sent[2:])),
        ("response.create with a response object", lambda: check_sent(
            sent[:2] + [{"type": "response.create", "response": {"instructions": None}}] + sent[3:])),
    ]
    for name, bad in cases:
        try:
            bad()
        except HarnessFailure:
            continue
        fail(f"self-check: {name} was not rejected")
    check_session_update(good_update)
    check_session_updated(good_updated)
    check_call(call())
    check_sent(sent)
    print(f"OK self-check {len(cases)} cases", flush=True)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="ws://HOST:PORT/api-ws/v1/realtime (no query string)")
    p.add_argument("--api-key", default="sk-understudy")
    p.add_argument("--audio", default=DEFAULT_AUDIO)
    p.add_argument("--cassette", default=None, help="replay engine: cassette (X-Understudy-Cassette header)")
    p.add_argument("--busy", action="store_true",
                   help="also send a second response.create while the answer runs (respond engine)")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--self-check", action="store_true")
    args = p.parse_args()
    try:
        if args.self_check:
            return self_check()
        if not args.url:
            fail("--url is required")
        return Run(args).run()
    except HarnessFailure as e:
        print(f"FAIL: {e}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
