#!/usr/bin/env python3
"""Drive streaming chat completions with the *unmodified* official `openai` Python
SDK against a mock server, and validate every streamed chunk strictly against the
SDK's own pydantic model (`openai.types.chat.ChatCompletionChunk`).

Run with the harness venv (scripts/python-env.sh prints its python):

    PY=$(scripts/python-env.sh | tail -n1)
    $PY tests/sdk/openai_chat_stream.py --base-url http://127.0.0.1:PORT/v1 --scenario text
    $PY tests/sdk/openai_chat_stream.py --base-url ... --scenario tools
    $PY tests/sdk/openai_chat_stream.py --base-url ... --scenario audio
    $PY tests/sdk/openai_chat_stream.py --base-url http://127.0.0.1:PORT/compatible-mode/v1 --scenario dashscope-audio
    $PY tests/sdk/openai_chat_stream.py --base-url ... --expect-auth-failure
    $PY tests/sdk/openai_chat_stream.py --self-check

Against the replay engine (`understudy serve --engine replay`), name the cassette
(sent as the `X-Understudy-Cassette` header through the SDK's `default_headers`)
and say what it recorded: `--cassette openai/chat-audio-stream --expect-text
"..." --expect-audio-file recorded.b64 --min-first-chunk-ms 70`.

How strictness works: the SDK is given an ordinary `httpx2.Client` whose transport
copies every response byte the SDK reads (the SDK itself is untouched and parses
the stream as usual). Afterwards each SSE event's data is json-decoded and
validated with `ChatCompletionChunk.model_validate(..., strict=True)`; the model
tree is then walked and any field the SDK does not declare (`model_extra`) fails
the run — the approach of tests/sdk/openai_realtime_turn.py, whose walker is
reused. The stream must end with `data: [DONE]` and then the body must end;
every chunk must carry one `id` and `created`.

Output: `OK <scenario> <N> chunks` (exit 0) or `FAIL: ...` (exit 1).
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import os
import struct
import sys
import time
import typing
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import httpx2  # the HTTP client openai 3.57.0 is built on
import openai
from openai import OpenAI
from openai.types.chat import ChatCompletionChunk
from pydantic import ValidationError

from openai_realtime_turn import HarnessFailure, _collect_extras, _fmt_errors, fail  # noqa: E402

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


# --------------------------------------------------------------------------------------
# A transport that keeps a copy of what the SDK reads
# --------------------------------------------------------------------------------------

class _TeeStream(httpx2.SyncByteStream):
    def __init__(self, inner: Any, sink: bytearray) -> None:
        self.inner, self.sink = inner, sink

    def __iter__(self) -> typing.Iterator[bytes]:
        for chunk in self.inner:
            self.sink.extend(chunk)
            yield chunk

    def close(self) -> None:
        self.inner.close()


class TeeTransport(httpx2.BaseTransport):
    """Forwards to the default transport; records each response body as read."""

    def __init__(self) -> None:
        self.inner = httpx2.HTTPTransport()
        self.bodies: List[Tuple[int, bytearray]] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        sink = bytearray()
        self.bodies.append((response.status_code, sink))
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_TeeStream(response.stream, sink),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.inner.close()


# --------------------------------------------------------------------------------------
# Strict validation of the raw stream
# --------------------------------------------------------------------------------------

def sse_data(raw: bytes) -> List[str]:
    """The data of each event (the mock uses LF endings; CRLF tolerated)."""
    text = raw.decode("utf-8").replace("\r\n", "\n")
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        lines = [l for l in block.split("\n") if not l.startswith(":")]
        data = [l[5:].lstrip(" ") if l.startswith("data:") else None for l in lines]
        if any(d is None for d in data):
            fail(f"event with a non-data line: {block[:120]!r}")
        events.append("\n".join(typing.cast(List[str], data)))
    return events


def validate_chunk(data: str) -> ChatCompletionChunk:
    if data.strip() == "":
        fail("an empty data: event (the SDK raises a JSON decode error on it)")
    try:
        obj = json.loads(data)
    except ValueError as e:
        fail(f"chunk is not JSON ({e}): {data[:200]!r}")
    if not isinstance(obj, dict):
        fail(f"chunk is not a JSON object: {data[:200]!r}")
    if "error" in obj:
        fail(f"error event in the stream: {data[:300]}")
    try:
        model = ChatCompletionChunk.model_validate(obj, strict=True)
    except ValidationError as e:
        fail(f"chunk does not validate against ChatCompletionChunk: {_fmt_errors(e)}")
    extras: List[str] = []
    _collect_extras(model, "", "", set(), extras)
    if extras:
        fail(f"chunk has field(s) the SDK does not declare: {', '.join(extras)}")
    return model


def validate_stream(raw: bytes) -> List[ChatCompletionChunk]:
    events = sse_data(raw)
    if not events or events[-1] != "[DONE]":
        fail(f"the stream does not end with data: [DONE] (last: {events[-1][:80] if events else None!r})")
    if not raw.endswith(b"data: [DONE]\n\n"):
        fail("bytes follow [DONE]")
    chunks = [validate_chunk(d) for d in events[:-1]]
    if not chunks:
        fail("no chunks before [DONE]")
    if len({c.id for c in chunks}) != 1 or len({c.created for c in chunks}) != 1:
        fail("chunks of one stream carry different id/created values")
    return chunks


# --------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------

def make_client(args: argparse.Namespace, tee: TeeTransport, key: Optional[str] = None) -> OpenAI:
    return OpenAI(
        api_key=key or args.api_key,
        base_url=args.base_url,
        http_client=httpx2.Client(transport=tee, timeout=args.timeout),
        max_retries=0,
        default_headers={"X-Understudy-Cassette": args.cassette} if args.cassette else None,
    )


class FirstChunkClock:
    """Time from sending the request to the first chunk the SDK yields."""

    def __init__(self) -> None:
        self.sent = time.monotonic()
        self.first: Optional[float] = None

    def tick(self) -> None:
        if self.first is None:
            self.first = time.monotonic()

    def check(self, args: argparse.Namespace) -> None:
        if args.min_first_chunk_ms is None:
            return
        if self.first is None:
            fail("no chunk arrived")
        ms = (self.first - self.sent) * 1000
        if ms < args.min_first_chunk_ms:
            fail(f"the first chunk came after {ms:.0f} ms, before the recorded {args.min_first_chunk_ms:.0f} ms")


def stream_body(tee: TeeTransport) -> bytes:
    status, body = tee.bodies[-1]
    if status != 200:
        fail(f"HTTP {status}: {bytes(body)[:300]!r}")
    return bytes(body)


def scenario_text(args: argparse.Namespace) -> int:
    tee = TeeTransport()
    client = make_client(args, tee)
    text, usage = "", None
    clock = FirstChunkClock()
    stream = client.chat.completions.create(
        model=args.model or "gpt-4o-mini",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        clock.tick()
        for choice in chunk.choices:
            text += choice.delta.content or ""
        if chunk.usage is not None:
            usage = chunk.usage
    chunks = validate_stream(stream_body(tee))
    clock.check(args)
    expected = args.expect_text if args.expect_text is not None else "You said: Hello there"
    if text != expected:
        fail(f"assembled text {text!r}, expected {expected!r}")
    if usage is None or usage.total_tokens != usage.prompt_tokens + usage.completion_tokens:
        fail(f"usage chunk missing or inconsistent: {usage}")
    if chunks[-1].choices != [] or chunks[-1].usage is None:
        fail("the last chunk before [DONE] is not the usage chunk with choices: []")
    if [c.choices[0].finish_reason for c in chunks[:-1]].count("stop") != 1:
        fail("finish_reason 'stop' must appear exactly once")
    return len(chunks)


def scenario_tools(args: argparse.Namespace) -> int:
    tee = TeeTransport()
    client = make_client(args, tee)
    model = args.model or "gpt-4o-mini"
    messages: List[Dict[str, Any]] = [{"role": "user", "content": "What is the weather like in Paris today?"}]
    calls: Dict[int, Dict[str, str]] = {}
    finish = None
    for chunk in client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL], stream=True):
        for choice in chunk.choices:
            for frag in choice.delta.tool_calls or []:
                call = calls.setdefault(frag.index, {"id": "", "name": "", "arguments": ""})
                if frag.id:
                    call["id"] = call["id"] or frag.id
                if frag.function and frag.function.name:
                    call["name"] = call["name"] or frag.function.name
                if frag.function and frag.function.arguments:
                    call["arguments"] += frag.function.arguments
            finish = choice.finish_reason or finish
    n = len(validate_stream(stream_body(tee)))
    if finish != "tool_calls" or list(calls) != [0]:
        fail(f"expected one tool call and finish_reason tool_calls, got {calls} / {finish}")
    call = calls[0]
    if call["name"] != "get_weather" or json.loads(call["arguments"]) != {"city": "Paris"}:
        fail(f"assembled call {call}")
    # The same request through the SDK's accumulating helper.
    with client.chat.completions.stream(model=model, messages=messages, tools=[WEATHER_TOOL]) as helper:
        final = helper.get_final_completion()
    helper_call = final.choices[0].message.tool_calls[0]
    if helper_call.function.name != "get_weather" or helper_call.function.arguments != call["arguments"]:
        fail(f".stream() helper assembled {helper_call}")
    # Round trip: answer the call and read the model's spoken-text reply.
    messages.append({"role": "assistant", "content": None, "tool_calls": [
        {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}]})
    messages.append({"role": "tool", "tool_call_id": call["id"], "content": json.dumps({"sky": "clear", "temperature": "18C"})})
    text = ""
    for chunk in client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL], stream=True):
        for choice in chunk.choices:
            text += choice.delta.content or ""
    n += len(validate_stream(stream_body(tee)))
    if text != "Here is what I found: sky clear, temperature 18C.":
        fail(f"reply after the tool result: {text!r}")
    return n


def check_pcm(pcm: bytes, transcript: str) -> None:
    if len(pcm) % 2:
        fail(f"odd number of PCM bytes ({len(pcm)})")
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    seconds = len(samples) / 24_000
    if not 0.9 <= seconds <= 6.1:
        fail(f"{seconds:.2f} s of audio is implausible for {transcript!r}")
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    distinct = len(set(samples[:24_000]))
    if rms < 0.005 or distinct < 200:
        fail(f"audio does not look like speech (rms {rms:.4f}, {distinct} distinct values in the first second)")


def scenario_audio(args: argparse.Namespace, dashscope: bool) -> int:
    tee = TeeTransport()
    client = make_client(args, tee)
    model = args.model or ("qwen3-omni-flash" if dashscope else "gpt-audio-mini")
    audio_param = {"voice": "Cherry", "format": "wav"} if dashscope else {"voice": "alloy", "format": "pcm16"}
    prompt = "Say something nice"
    clock = FirstChunkClock()
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        modalities=["text", "audio"],
        audio=audio_param,
        stream=True,
        stream_options={"include_usage": True},
    )
    content, transcript, b64 = "", "", ""
    ids, expiries, usage = set(), [], None
    for chunk in stream:
        clock.tick()
        for choice in chunk.choices:
            content += choice.delta.content or ""
            audio = choice.delta.audio  # typed ChoiceDeltaAudio in openai 3.x
            if audio is None:
                continue
            transcript += audio.transcript or ""
            b64 += audio.data or ""
            if audio.id:
                ids.add(audio.id)
            if audio.expires_at is not None:
                expiries.append(audio.expires_at)
        if chunk.usage is not None:
            usage = chunk.usage
    chunks = validate_stream(stream_body(tee))
    clock.check(args)
    expected = args.expect_text if args.expect_text is not None else f"You said: {prompt}"
    spoken = content if dashscope else transcript
    if spoken != expected:
        fail(f"spoken text {spoken!r} (content {content!r}, transcript {transcript!r})")
    if (transcript if dashscope else content):
        fail("text arrived in the other dialect's field")
    if len(ids) != 1 or not next(iter(ids)).startswith("audio_"):
        fail(f"audio ids {ids}")
    created = chunks[0].created
    if dashscope:
        if not expiries or any(e != created for e in expiries):
            fail(f"DashScope expires_at should equal created on every audio chunk: {expiries[:3]}")
    elif expiries != [created + 3600]:
        fail(f"OpenAI sends expires_at once, about an hour ahead: {expiries}")
    pcm = base64.b64decode(b64, validate=True)
    check_pcm(pcm, spoken)
    if args.expect_audio_file:
        with open(args.expect_audio_file, "rb") as f:
            recorded = base64.b64decode(f.read().strip(), validate=True)
        if pcm != recorded:
            fail(f"the audio ({len(pcm)} bytes) differs from the recording ({len(recorded)} bytes)")
    details = usage.completion_tokens_details if usage else None
    if details is None or not details.audio_tokens:
        fail(f"usage without completion audio tokens: {usage}")
    if not dashscope:
        expiry = [c for c in chunks if c.choices and c.choices[0].delta.audio and c.choices[0].delta.audio.expires_at]
        if len(expiry) != 1 or expiry[0].choices[0].finish_reason is not None:
            fail("the expiry chunk must be one chunk without a finish_reason")
    return len(chunks)


def expect_auth_failure(args: argparse.Namespace) -> int:
    tee = TeeTransport()
    client = make_client(args, tee, key=args.api_key or "sk-understudy-wrong")
    try:
        for _ in client.chat.completions.create(
            model=args.model or "gpt-4o-mini",
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
        ):
            pass
    except openai.AuthenticationError as e:
        if e.status_code != 401 or e.code != "invalid_api_key" or not str(e.message):
            fail(f"AuthenticationError with status {e.status_code}, code {e.code!r}, message {e.message!r}")
        if len(tee.bodies) != 1:
            fail(f"a 401 must not be retried ({len(tee.bodies)} requests)")
        return 0
    fail("the stream was not refused with openai.AuthenticationError")


SCENARIOS = {
    "text": scenario_text,
    "tools": scenario_tools,
    "audio": lambda a: scenario_audio(a, dashscope=False),
    "dashscope-audio": lambda a: scenario_audio(a, dashscope=True),
}


# --------------------------------------------------------------------------------------
# Self-check: the validator must reject what the SDK's strict mode rejects
# --------------------------------------------------------------------------------------

GOOD = {"id": "chatcmpl-X", "object": "chat.completion.chunk", "created": 1767225600, "model": "m",
        "choices": [{"index": 0, "delta": {"content": "Hi"}, "logprobs": None, "finish_reason": None}]}


def self_check() -> int:
    def drop(key: str) -> Dict[str, Any]:
        return {k: v for k, v in GOOD.items() if k != key}

    cases = [
        ("a full chunk", GOOD, True),
        ("a usage chunk", {**GOOD, "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}, True),
        ("an audio delta", {**GOOD, "choices": [{"index": 0, "delta": {"audio": {"id": "audio_1", "data": "AAA="}}}]}, True),
        ("choices missing (usage chunk without choices: [])", drop("choices"), False),
        ("object missing", drop("object"), False),
        ("object wrong", {**GOOD, "object": "chat.completion"}, False),
        ("created as a string", {**GOOD, "created": "1767225600"}, False),
        ("delta missing", {**GOOD, "choices": [{"index": 0}]}, False),
        ("tool-call fragment without index", {**GOOD, "choices": [{"index": 0, "delta": {"tool_calls": [{"id": "c"}]}}]}, False),
        ("unknown top-level field", {**GOOD, "usage_details": {}}, False),
        ("unknown delta field", {**GOOD, "choices": [{"index": 0, "delta": {"text": "Hi"}}]}, False),
        ("usage without total_tokens", {**GOOD, "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}, False),
        ("finish_reason outside the enum", {**GOOD, "choices": [{"index": 0, "delta": {}, "finish_reason": "done"}]}, False),
        ("an error event", {"error": {"message": "x", "type": "server_error"}}, False),
    ]
    bad = 0
    for name, obj, ok in cases:
        try:
            validate_chunk(json.dumps(obj))
            got, why = True, ""
        except HarnessFailure as f:
            got, why = False, str(f)
        status = "PASS" if got == ok else "FAIL"
        bad += status == "FAIL"
        print(f"{status} {name}: {'accepted' if got else 'rejected'}" + (f" -> {why}" if why else ""))
    for name, raw, ok in [
        ("stream ending in [DONE]", b"data: " + json.dumps(GOOD).encode() + b"\n\ndata: [DONE]\n\n", True),
        ("stream without [DONE]", b"data: " + json.dumps(GOOD).encode() + b"\n\n", False),
        ("empty data event", b"data: \n\ndata: [DONE]\n\n", False),
    ]:
        try:
            validate_stream(raw)
            got = True
        except HarnessFailure:
            got = False
        status = "PASS" if got == ok else "FAIL"
        bad += status == "FAIL"
        print(f"{status} {name}: {'accepted' if got else 'rejected'}")
    if bad:
        print(f"FAIL: self-check: {bad} case(s) wrong")
        return 1
    print(f"OK self-check {len(cases) + 3} cases")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", help="http://127.0.0.1:PORT/v1 or http://127.0.0.1:PORT/compatible-mode/v1")
    p.add_argument("--api-key", default="sk-understudy-test")
    p.add_argument("--model", default=None)
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="text")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--cassette", default=None,
                   help="replay engine: the cassette to play (X-Understudy-Cassette header)")
    p.add_argument("--expect-text", default=None,
                   help="the text (or spoken transcript) the answer must assemble to")
    p.add_argument("--expect-audio-file", default=None,
                   help="a file of base64 audio the decoded answer must equal byte for byte")
    p.add_argument("--min-first-chunk-ms", type=float, default=None,
                   help="the first chunk must not arrive sooner (recorded offset / speed, less slack)")
    p.add_argument("--expect-auth-failure", action="store_true",
                   help="require openai.AuthenticationError (401, code invalid_api_key), not retried")
    p.add_argument("--self-check", action="store_true", help="test the strict validator offline and exit")
    args = p.parse_args()
    if args.self_check:
        return self_check()
    if not args.base_url:
        p.error("--base-url is required")
    label = "auth-failure" if args.expect_auth_failure else args.scenario
    t0 = time.monotonic()
    try:
        if args.expect_auth_failure:
            expect_auth_failure(args)
            print(f"OK {label} ({time.monotonic() - t0:.1f}s)")
        else:
            n = SCENARIOS[args.scenario](args)
            print(f"OK {label} {n} chunks ({time.monotonic() - t0:.1f}s)")
        return 0
    except HarnessFailure as f:
        print(f"FAIL: {label}: {f} ({time.monotonic() - t0:.1f}s)", flush=True)
        return 1
    except openai.APIError as e:
        print(f"FAIL: {label}: {type(e).__name__}: {e}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
