#!/usr/bin/env python3
"""Speak a streamed text with the *unmodified* official `dashscope` Python SDK
(dashscope.audio.qwen_tts_realtime.QwenTtsRealtime) against a mock server, and
check every server event against the Qwen-TTS realtime protocol
(the Qwen-TTS realtime protocol).

    PY=$(scripts/python-env.sh | tail -n1)
    $PY tests/sdk/dashscope_tts_realtime.py --url ws://127.0.0.1:PORT/api-ws/v1/realtime --mode server_commit
    $PY tests/sdk/dashscope_tts_realtime.py --url ws://127.0.0.1:PORT/api-ws/v1/realtime --mode commit
    $PY tests/sdk/dashscope_tts_realtime.py --url ws://127.0.0.1:PORT/api-ws/v1/realtime --mode server_commit --explicit-commit
    $PY tests/sdk/dashscope_tts_realtime.py --url ws://127.0.0.1:PORT/api-ws/v1/realtime --expect-invalid-rate

The SDK hands every server frame to `QwenTtsRealtimeCallback.on_event(dict)`;
the callback only enqueues, all checks run on the main thread. ERROR records
logged by the SDK ("dashscope") or websocket-client ("websocket") fail the run:
that is how the SDK reports a frame it could not handle (it dereferences
`session.id` and `response.id`).

Checks:
  - every event: JSON object, string `type` among the protocol's server events,
    non-empty string `event_id`;
  - `session.created` first, once, with `session.id` (the SDK stores it);
    `session.updated` answers the settings and echoes them;
  - each response group in order: `response.created` (with `response.id`,
    status `in_progress`), `response.output_item.added`,
    `response.content_part.added`, one or more `response.audio.delta` (valid
    base64 of an even number of bytes), `response.audio.done`,
    `response.content_part.done`, `response.output_item.done`, `response.done`
    (status `completed`), every event naming that response;
  - commit mode: one `input_text_buffer.committed` and one group per commit;
  - `--explicit-commit` (AgentScope's flow: server_commit mode, all the text,
    then `commit()` and `finish()` at once): exactly one
    `input_text_buffer.committed` and no `error`, whatever the server had
    already spoken;
  - `session.finished` last, then the server closes the socket;
  - the audio (24 kHz PCM16) lasts at least 50 ms per character spoken.

Output: `OK <mode> <N> events <M> responses <B> bytes` or `FAIL: ...`.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import logging
import queue
import sys
import time
from typing import Any, Dict, List

import dashscope
from dashscope.audio.qwen_tts_realtime import (
    AudioFormat,
    QwenTtsRealtime,
    QwenTtsRealtimeCallback,
)

MODEL = "qwen3-tts-flash-realtime"
# The bundled cassette dashscope/tts-server-commit records these same pieces
# (conformance::synth::TTS_PIECES); change both together.
PIECES = ["Hello from the ", "Understudy TTS test. ", "It streams text ", "as it is written."]
SERVER_EVENTS = {
    "error", "session.created", "session.updated", "input_text_buffer.committed",
    "input_text_buffer.cleared", "response.created", "response.output_item.added",
    "response.content_part.added", "response.audio.delta", "response.audio.done",
    "response.content_part.done", "response.output_item.done", "response.done",
    "session.finished",
}
GROUP = [
    "response.created", "response.output_item.added", "response.content_part.added",
    "response.audio.delta", "response.audio.done", "response.content_part.done",
    "response.output_item.done", "response.done",
]


class Failure(Exception):
    pass


class ErrorLogs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        # websocket-client >= 1.9 reports every close frame as an error (and the
        # SDK logs it again from on_error); the close itself is judged in on_close.
        if msg.startswith(("websocket error: Connection closed", "Connection closed")):
            return
        self.records.append(f"{record.name}: {msg}")


class Callback(QwenTtsRealtimeCallback):
    def __init__(self) -> None:
        self.events: "queue.Queue[Any]" = queue.Queue()

    def on_open(self) -> None:
        self.events.put(("open",))

    def on_close(self, close_status_code, close_msg) -> None:
        self.events.put(("close", close_status_code, close_msg))

    def on_event(self, message) -> None:
        self.events.put(("event", message))


def check_event(event: Any) -> str:
    if not isinstance(event, dict):
        raise Failure(f"event is not an object: {event!r}")
    kind = event.get("type")
    if kind not in SERVER_EVENTS:
        raise Failure(f"unknown server event type {kind!r}")
    if not isinstance(event.get("event_id"), str) or not event["event_id"]:
        raise Failure(f"{kind}: missing event_id")
    return kind


def collect(cb: Callback, until_close: bool, limit: float) -> tuple[List[Dict], Any]:
    events: List[Dict] = []
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            item = cb.events.get(timeout=0.2)
        except queue.Empty:
            continue
        if item[0] == "event":
            events.append(item[1])
        elif item[0] == "close":
            return events, item[1:]
        if not until_close and events and events[-1].get("type") == "error":
            return events, None
    raise Failure(f"no close within {limit}s; last events {[e.get('type') for e in events[-5:]]}")


def check_groups(events: List[Dict]) -> tuple[int, int]:
    # Buffer acknowledgements (`committed`, `cleared`) answer the client's own
    # events and may arrive while an earlier response is still streaming.
    events = [e for e in events if e["type"] in GROUP]
    responses, audio = 0, 0
    i = 0
    while i < len(events):
        if events[i]["type"] != "response.created":
            i += 1
            continue
        created = events[i]
        rid = created.get("response", {}).get("id")
        if not rid or created["response"].get("status") != "in_progress":
            raise Failure(f"response.created without id/in_progress: {created}")
        step = 0
        while True:
            if i >= len(events):
                raise Failure(f"response {rid} never finished")
            event = events[i]
            kind = event["type"]
            expected = GROUP[step]
            if kind == expected or (kind == "response.audio.delta" and expected == "response.audio.done"):
                pass
            elif kind == GROUP[min(step + 1, len(GROUP) - 1)]:
                step += 1
            else:
                raise Failure(f"response {rid}: {kind} where {expected} belongs")
            if kind != "response.created":
                named = event.get("response_id") or event.get("response", {}).get("id")
                if named != rid:
                    raise Failure(f"{kind} names {named}, not {rid}")
            if kind == "response.audio.delta":
                try:
                    data = base64.b64decode(event["delta"], validate=True)
                except (binascii.Error, KeyError) as e:
                    raise Failure(f"audio delta is not base64: {e}")
                if len(data) % 2:
                    raise Failure("odd number of PCM16 bytes")
                audio += len(data)
                step = max(step, GROUP.index("response.audio.delta"))
            if kind == "response.done":
                if event["response"].get("status") != "completed":
                    raise Failure(f"response {rid} ended {event['response'].get('status')}")
                responses += 1
                i += 1
                break
            i += 1
    return responses, audio


def run(args) -> str:
    logs = ErrorLogs()
    for name in ("dashscope", "websocket"):
        logging.getLogger(name).addHandler(logs)
    dashscope.api_key = args.key
    cb = Callback()
    headers = {"X-Understudy-Cassette": args.cassette} if args.cassette else None
    tts = QwenTtsRealtime(model=MODEL, callback=cb, url=args.url, headers=headers)
    tts.connect()
    if args.expect_invalid_rate:
        tts.update_session(voice="Cherry", response_format=AudioFormat.PCM_24000HZ_MONO_16BIT, sample_rate=11025)
        events, _ = collect(cb, until_close=False, limit=10)
        kinds = [check_event(e) for e in events]
        if kinds[:1] != ["session.created"] or kinds[-1] != "error":
            raise Failure(f"expected session.created then error, got {kinds}")
        error = events[-1]["error"]
        if error.get("code") != "invalid_value" or error.get("param") != "session.sample_rate":
            raise Failure(f"unexpected error {error}")
        tts.close()
        return "OK invalid-rate"
    tts.update_session(voice="Cherry", response_format=AudioFormat.PCM_24000HZ_MONO_16BIT, mode=args.mode)
    for piece in PIECES:
        tts.append_text(piece)
        if args.mode == "commit":
            tts.commit()
    if args.explicit_commit:
        tts.commit()
    tts.finish()
    events, close = collect(cb, until_close=True, limit=30)
    kinds = [check_event(e) for e in events]
    if kinds.count("session.created") != 1 or kinds[0] != "session.created":
        raise Failure(f"session.created must come first, once: {kinds[:3]}")
    if not events[0]["session"].get("id") or tts.session_id != events[0]["session"]["id"]:
        raise Failure("session.created without the id the SDK stores")
    updated = [e for e in events if e["type"] == "session.updated"]
    if len(updated) != 1 or updated[0]["session"].get("mode") != args.mode or updated[0]["session"].get("voice") != "Cherry":
        raise Failure(f"session.updated does not echo the settings: {updated}")
    if "error" in kinds:
        raise Failure(f"error event: {[e for e in events if e['type'] == 'error']}")
    if kinds[-1] != "session.finished":
        raise Failure(f"session.finished must be last, got {kinds[-3:]}")
    responses, audio = check_groups(events)
    if args.mode == "commit":
        if kinds.count("input_text_buffer.committed") != len(PIECES) or responses != len(PIECES):
            raise Failure(f"commit mode: {kinds.count('input_text_buffer.committed')} commits, {responses} responses for {len(PIECES)} pieces")
    elif responses < 1:
        raise Failure("no response")
    if args.explicit_commit and kinds.count("input_text_buffer.committed") != 1:
        raise Failure(f"one commit, {kinds.count('input_text_buffer.committed')} committed events")
    characters = sum(len(p) for p in PIECES)
    if audio < characters * 50 * 48:
        raise Failure(f"{audio} bytes of audio is too short for {characters} characters")
    if close is None or close[0] not in (1000, None):
        raise Failure(f"unexpected close {close}")
    if logs.records:
        raise Failure(f"the SDK logged errors: {logs.records}")
    mode = f"{args.mode}+commit" if args.explicit_commit else args.mode
    return f"OK {mode} {len(events)} events {responses} responses {audio} bytes"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", default="sk-understudy-test")
    parser.add_argument("--mode", choices=["server_commit", "commit"], default="server_commit")
    parser.add_argument("--cassette", help="cassette a replaying mock should play")
    parser.add_argument("--explicit-commit", action="store_true",
                        help="commit once after all the text, then finish (AgentScope's flow)")
    parser.add_argument("--expect-invalid-rate", action="store_true")
    args = parser.parse_args()
    try:
        print(run(args))
        return 0
    except Failure as failure:
        print(f"FAIL: {failure}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
