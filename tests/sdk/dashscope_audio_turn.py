#!/usr/bin/env python3
"""Drive Qwen-Audio-Realtime with the *unmodified* official `dashscope` SDK's v2
client (`dashscope.Client().audio.realtime.connect(model="qwen-audio-…",
ws_url=…)`, which picks its Qwen-Audio shape by the `qwen-audio-` prefix)
against a mock server, and check every server event against the Qwen-Audio
protocol (`dashscope-audio-realtime.md`).

    PY=$(scripts/python-env.sh | tail -n1)
    $PY tests/sdk/dashscope_audio_turn.py --url ws://127.0.0.1:PORT/api-ws/v1/realtime --scenario text
    $PY tests/sdk/dashscope_audio_turn.py --url … --scenario spoken
    $PY tests/sdk/dashscope_audio_turn.py --url … --scenario smart-turn [--voiceprint]
    $PY tests/sdk/dashscope_audio_turn.py --self-check

The v2 client is synchronous: a receiver thread calls `recv_event()` (which
raises on any `error` event) and queues what it gets; every check runs on the
main thread. dashscope 2.0.2 has no typed server-event models for this API, so
the checks are explicit:
  - every event: string `type` from the Qwen-Audio server-event set (no
    `session.finished`, no OpenAI GA names), non-empty string `event_id`;
  - `session.created` first and once, with `session.id`;
  - `output_index`/`content_index`, where present, the integer 0;
  - response-scoped events only inside an open response; audio deltas valid
    base64 of an even number of bytes;
  - input transcription deltas carry string `text` and `stash` (not OpenAI's
    `delta`);
  - ambient transcription ids never name a conversation item, and no turn
    (`speech_started`) or response starts while only ambient speech is heard.
Then each scenario checks its own flow (see the run_* functions).

Output: `<- <type>` per event, finally `OK <scenario> <N> events` (exit 0) or
`FAIL: …` (exit 1).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import os
import queue
import sys
import threading
import time
import typing
import warnings
import wave
from typing import Any, Callable, Dict, List, Optional, Set

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AUDIO = os.path.join(REPO_ROOT, "fixtures", "audio")
MODEL = "qwen-audio-3.1-realtime-plus"
WEATHER = "What is the weather like in Paris today?"
ORDER = "Can you check the status of order A seventeen?"
VOICEPRINT_URL = "https://example.com/voiceprints/target-speaker.wav"


# Expected with a mock: `ws_url` replaces the workspace gateway, and the v2
# audio API announces itself as a preview. Neither is a finding.
warnings.filterwarnings("ignore", message="no workspace configured")
warnings.filterwarnings("ignore", message="dashscope 2.0 audio API is a preview")


class HarnessFailure(Exception):
    """A conformance failure (exit 1)."""


def fail(msg: str) -> typing.NoReturn:
    raise HarnessFailure(msg)


# Server events of Qwen-Audio-Realtime (protocol §5).
SERVER_EVENTS: Set[str] = {
    "error", "session.created", "session.updated",
    "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed", "input_audio_buffer.cleared",
    "conversation.item.created", "conversation.item.deleted", "conversation.item.retrieved",
    "conversation.item.input_audio_transcription.delta",
    "conversation.item.input_audio_transcription.completed",
    "conversation.item.input_audio_transcription.failed",
    "conversation.item.ambient_audio_transcription.delta",
    "conversation.item.ambient_audio_transcription.completed",
    "response.created", "response.done",
    "response.output_item.added", "response.output_item.done",
    "response.content_part.added", "response.content_part.done",
    "response.text.delta", "response.text.done",
    "response.audio.delta", "response.audio.done",
    "response.audio_transcript.delta", "response.audio_transcript.done",
    "response.function_call_arguments.delta", "response.function_call_arguments.done",
    "voiceprint_audio_list.in_progress", "voiceprint_audio_list.completed",
    "voiceprint_audio_list.failed",
}

RESPONSE_SCOPED = {t for t in SERVER_EVENTS if t.startswith("response.")} - {"response.created", "response.done"}


class Checker:
    """Checks each event as it arrives and keeps them for the flow checks."""

    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []
        self.open_responses: Set[str] = set()
        self.items: Set[str] = set()
        self.ambient_ids: Set[str] = set()

    def feed(self, ev: Any) -> Dict[str, Any]:
        if not isinstance(ev, dict):
            fail(f"event is not a JSON object: {ev!r}")
        t = ev.get("type")
        if not isinstance(t, str) or t not in SERVER_EVENTS:
            fail(f"not a Qwen-Audio server event type: {t!r}")
        if not isinstance(ev.get("event_id"), str) or not ev["event_id"]:
            fail(f"{t}: missing event_id")
        if not self.events and t != "session.created":
            fail(f"first event is {t}, not session.created")
        if self.events and t == "session.created":
            fail("a second session.created")
        if t in ("session.created", "session.updated"):
            session = ev.get("session")
            if not isinstance(session, dict) or (t == "session.created" and not session.get("id")):
                fail(f"{t}: session without id")
        for key in ("output_index", "content_index"):
            if key in ev and (not isinstance(ev[key], int) or isinstance(ev[key], bool) or ev[key] != 0):
                fail(f"{t}: {key} is {ev[key]!r}, not 0")
        if t == "response.created":
            rid = (ev.get("response") or {}).get("id")
            if not rid or (ev.get("response") or {}).get("status") != "in_progress":
                fail(f"response.created without id or not in_progress: {ev}")
            self.open_responses.add(rid)
        elif t == "response.done":
            rid = (ev.get("response") or {}).get("id")
            if rid not in self.open_responses:
                fail(f"response.done for a response not open: {rid}")
            self.open_responses.discard(rid)
        elif t in RESPONSE_SCOPED:
            if ev.get("response_id") not in self.open_responses:
                fail(f"{t} outside an open response ({ev.get('response_id')})")
        if t == "response.audio.delta":
            try:
                raw = base64.b64decode(ev.get("delta", ""), validate=True)
            except (binascii.Error, ValueError):
                fail("response.audio.delta is not base64")
            if len(raw) % 2:
                fail("response.audio.delta has an odd number of bytes")
        if t in ("conversation.item.input_audio_transcription.delta",
                 "conversation.item.ambient_audio_transcription.delta"):
            if not isinstance(ev.get("text"), str) or not isinstance(ev.get("stash"), str):
                fail(f"{t}: needs string text and stash: {ev}")
            if "delta" in ev:
                fail(f"{t}: OpenAI's `delta` field instead of text/stash")
        if t.startswith("conversation.item.ambient_audio_transcription"):
            self.ambient_ids.add(ev.get("item_id"))
        if t == "conversation.item.created":
            self.items.add((ev.get("item") or {}).get("id"))
        overlap = self.ambient_ids & self.items
        if overlap:
            fail(f"ambient speech entered the conversation: {overlap}")
        self.events.append(ev)
        return ev

    def types(self) -> List[str]:
        return [e["type"] for e in self.events]


class Run:
    """One SDK session and its receiver thread."""

    def __init__(self, args: argparse.Namespace) -> None:
        from dashscope import Client
        self.args = args
        self.q: "queue.Queue[Any]" = queue.Queue()
        self.ck = Checker()
        self.cursor = 0
        headers = {"X-Understudy-Cassette": args.cassette} if args.cassette else None
        self.client = Client(api_key=args.api_key, timeout=args.timeout)
        self.rt = self.client.audio.realtime.connect(model=args.model, ws_url=args.url, headers=headers)
        self.rt.connect()
        self.stop = False
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self) -> None:
        while not self.stop:
            try:
                ev = self.rt.recv_event()
            except BaseException as e:  # noqa: BLE001 - reported on the main thread
                self.q.put(e)
                return
            if ev is None:
                self.q.put(None)
                return
            self.q.put(ev)

    def wait_for(self, what: str, pred: Callable[[Dict[str, Any]], bool]) -> Dict[str, Any]:
        for i in range(self.cursor, len(self.ck.events)):
            if pred(self.ck.events[i]):
                self.cursor = i + 1
                return self.ck.events[i]
        self.cursor = len(self.ck.events)
        deadline = time.monotonic() + self.args.timeout
        while time.monotonic() < deadline:
            try:
                item = self.q.get(timeout=0.2)
            except queue.Empty:
                continue
            if isinstance(item, BaseException):
                fail(f"the SDK raised while waiting for {what}: {item!r}; events: {self.ck.types()}")
            if item is None:
                fail(f"connection closed while waiting for {what}; events: {self.ck.types()}")
            ev = self.ck.feed(item)
            print(f"<- {ev['type']}", flush=True)
            self.cursor = len(self.ck.events)
            if pred(ev):
                return ev
        fail(f"timeout waiting for {what}; events: {self.ck.types()}")

    def of_type(self, t: str) -> Dict[str, Any]:
        return self.wait_for(t, lambda e: e["type"] == t)

    def send_wav(self, name: str, silence_ms: int = 1200) -> None:
        with wave.open(os.path.join(AUDIO, name), "rb") as w:
            if w.getframerate() != 16000 or w.getsampwidth() != 2 or w.getnchannels() != 1:
                fail(f"{name} is not 16 kHz mono PCM16")
            pcm = w.readframes(w.getnframes())
        pcm += b"\0" * (32 * silence_ms)
        for i in range(0, len(pcm), 3200):
            self.rt.append_audio(pcm[i:i + 3200])
        print(f"-> {name} ({len(pcm) // 32} ms)", flush=True)

    def close(self) -> None:
        try:
            self.rt.end_session()
        except NotImplementedError:
            pass  # Qwen-Audio has no session.finish: the client closes.
        else:
            fail("end_session() did not refuse for qwen-audio (the SDK raises NotImplementedError)")
        self.stop = True
        self.rt.close()
        self.client.close()


def update(run: Run, **turns: Any) -> Dict[str, Any]:
    run.rt.update_session(["text", "audio"], voice="longanqian_v3.1",
                          input_audio_format="pcm", output_audio_format="pcm",
                          enable_input_audio_transcription=True,
                          instructions="You are a helpful assistant.", **turns)
    return run.of_type("session.updated")


def answered(run: Run) -> Dict[str, Any]:
    done = run.of_type("response.done")
    response = done["response"]
    if response.get("status") != "completed":
        fail(f"response ended {response.get('status')}: {response}")
    spoken = [e for e in run.ck.events if e["type"] == "response.audio.delta"
              and e.get("response_id") == response.get("id")]
    if not spoken:
        fail("the answer has no audio")
    return done


def check_spoken_turn(run: Run, start: int, words: str) -> None:
    """The turn's events after index `start`, in protocol §6.1 order."""
    events = run.ck.events[start:]
    types = [e["type"] for e in events]

    def at(t: str) -> int:
        if t not in types:
            fail(f"no {t} in the turn: {types}")
        return types.index(t)
    order = ["input_audio_buffer.speech_started", "conversation.item.input_audio_transcription.delta",
             "input_audio_buffer.speech_stopped", "input_audio_buffer.committed", "response.created",
             "response.done"]
    positions = [at(t) for t in order]
    if positions != sorted(positions):
        fail(f"turn out of order: {types}")
    deltas = [e for e in events if e["type"] == "conversation.item.input_audio_transcription.delta"]
    settled = deltas[-1]["text"] + deltas[-1]["stash"]
    if settled != words:
        fail(f"transcription deltas say {settled!r}, not {words!r}")
    # Its position relative to the response is unconfirmed: it may already be here.
    completed = [e for e in run.ck.events[start:]
                 if e["type"] == "conversation.item.input_audio_transcription.completed"]
    if not completed:
        completed = [run.of_type("conversation.item.input_audio_transcription.completed")]
    if completed[-1].get("transcript") != words:
        fail(f"completed transcript {completed[-1].get('transcript')!r}")


def run_text(args: argparse.Namespace) -> int:
    run = Run(args)
    run.of_type("session.created")
    session = update(run, enable_turn_detection=False)["session"]
    if session.get("turn_detection") is not None:
        fail(f"push-to-talk session has turn_detection {session.get('turn_detection')}")
    run.rt.create_item({"type": "message", "role": "user",
                        "content": [{"type": "input_text", "text": "Say hello to the Understudy conformance test."}]})
    user = run.wait_for("the user item", lambda e: e["type"] == "conversation.item.created"
                        and (e.get("item") or {}).get("role") == "user")
    run.rt.create_response()
    done = answered(run)
    transcript = "".join(e.get("delta", "") for e in run.ck.events if e["type"] == "response.audio_transcript.delta")
    if not transcript.strip():
        fail("the answer has no transcript")
    if not args.cassette:
        # Item management (respond engine): the typed item reads back; deleted once.
        item_id = user["item"]["id"]
        run.rt.retrieve_item(item_id)
        got = run.of_type("conversation.item.retrieved")
        if got["item"]["content"][0].get("text") != "Say hello to the Understudy conformance test.":
            fail(f"retrieved {got}")
        run.rt.delete_item(item_id)
        if run.of_type("conversation.item.deleted").get("item_id") != item_id:
            fail("deleted the wrong item")
    run.close()
    print(f"OK text {len(run.ck.events)} events (response {done['response']['id']})")
    return 0


def run_spoken(args: argparse.Namespace) -> int:
    run = Run(args)
    run.of_type("session.created")
    session = update(run, enable_turn_detection=True)["session"]
    if (session.get("turn_detection") or {}).get("type") != "server_vad":
        fail(f"turn_detection {session.get('turn_detection')}")
    start = len(run.ck.events)
    run.send_wav("user-weather-16k.wav")
    answered(run)
    check_spoken_turn(run, start, WEATHER)
    run.close()
    print(f"OK spoken {len(run.ck.events)} events")
    return 0


def run_smart_turn(args: argparse.Namespace) -> int:
    run = Run(args)
    run.of_type("session.created")
    params = {"voiceprint_audio_urls": [VOICEPRINT_URL]} if args.voiceprint else None
    turns: Dict[str, Any] = {"enable_turn_detection": True, "turn_detection_type": "smart_turn"}
    if params:
        turns["turn_detection_param"] = params
    session = update(run, **turns)["session"]
    if (session.get("turn_detection") or {}).get("type") != "smart_turn":
        fail(f"turn_detection {session.get('turn_detection')}")
    if args.voiceprint:
        types = run.ck.types()
        if "voiceprint_audio_list.in_progress" not in types or \
                types.index("voiceprint_audio_list.in_progress") > types.index("session.updated"):
            fail(f"voiceprint_audio_list.in_progress must come before session.updated: {types}")
        task = run.ck.events[types.index("voiceprint_audio_list.in_progress")]["item_id"]
        if run.of_type("voiceprint_audio_list.completed")["item_id"] != task:
            fail("the voiceprint task that completed is not the one that started")
    before = len(run.ck.events)
    run.send_wav("user-order-16k-distant.wav")
    ambient = run.of_type("conversation.item.ambient_audio_transcription.completed")
    if ambient.get("transcript") != ORDER:
        fail(f"ambient transcript {ambient.get('transcript')!r}")
    heard = run.ck.types()[before:]
    for t in ("input_audio_buffer.speech_started", "response.created", "conversation.item.created"):
        if t in heard:
            fail(f"ambient speech started a turn or a response ({t}): {heard}")
    if "conversation.item.ambient_audio_transcription.delta" not in heard:
        fail(f"no ambient delta before its completion: {heard}")
    start = len(run.ck.events)
    run.send_wav("user-weather-16k.wav")
    answered(run)
    check_spoken_turn(run, start, WEATHER)
    run.close()
    print(f"OK smart-turn {len(run.ck.events)} events")
    return 0


def self_check() -> int:
    """The checker must reject broken streams."""
    created = {"type": "session.created", "event_id": "e0", "session": {"id": "sess_1"}}
    cases = {
        "GA name": [created, {"type": "response.output_audio.delta", "event_id": "e1", "response_id": "r"}],
        "session.finished": [created, {"type": "session.finished", "event_id": "e1"}],
        "delta not text/stash": [created, {"type": "conversation.item.input_audio_transcription.delta",
                                           "event_id": "e1", "item_id": "i", "content_index": 0, "delta": "hi"}],
        "ambient item in conversation": [
            created,
            {"type": "conversation.item.ambient_audio_transcription.completed", "event_id": "e1",
             "item_id": "item_1", "content_index": 0, "transcript": "x"},
            {"type": "conversation.item.created", "event_id": "e2", "item": {"id": "item_1", "type": "message"}},
        ],
        "audio outside a response": [created, {"type": "response.audio.delta", "event_id": "e1",
                                               "response_id": "r", "item_id": "i", "output_index": 0,
                                               "content_index": 0, "delta": "AAAA"}],
        "missing event_id": [created, {"type": "session.updated", "session": {}}],
    }
    for name, events in cases.items():
        ck = Checker()
        try:
            for ev in events:
                ck.feed(ev)
        except HarnessFailure:
            continue
        fail(f"self-check: the checker accepted {name}")
    good = Checker()
    good.feed(created)
    good.feed({"type": "conversation.item.ambient_audio_transcription.delta", "event_id": "e1",
               "item_id": "amb", "content_index": 0, "text": "", "stash": "x"})
    print(f"OK self-check {len(cases)} cases")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="ws://HOST:PORT/api-ws/v1/realtime")
    p.add_argument("--scenario", choices=["text", "spoken", "smart-turn"])
    p.add_argument("--model", default=MODEL)
    p.add_argument("--api-key", default=os.environ.get("DASHSCOPE_API_KEY", "sk-understudy-test"))
    p.add_argument("--cassette", default=None, help="replay engine: cassette (X-Understudy-Cassette header)")
    p.add_argument("--voiceprint", action="store_true", help="smart-turn: register a voiceprint URL")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--self-check", action="store_true")
    args = p.parse_args()
    try:
        if args.self_check:
            return self_check()
        if not args.url or not args.scenario:
            p.error("--url and --scenario are required")
        return {"text": run_text, "spoken": run_spoken, "smart-turn": run_smart_turn}[args.scenario](args)
    except HarnessFailure as e:
        print(f"FAIL: {e}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
