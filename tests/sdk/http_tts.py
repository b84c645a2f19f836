#!/usr/bin/env python3
"""Drive HTTP text-to-speech with the *unmodified* official SDKs against a mock
server and check what comes back (OpenAI audio/speech, Gemini generateContent TTS):

  openai (pinned in scripts/requirements-sdk.txt), `client.audio.speech`:
    plain     create(response_format="pcm"): raw PCM16 of plausible length,
              audible, deterministic, longer for longer text
    wav       create(response_format="wav"): the header parses with `wave`
              (mono, 16-bit, 24 kHz, sizes matching the body) and its frames
              are the pcm answer's bytes
    streamed  with_streaming_response.create(...): several chunks spread in
              time, together equal to the plain answer
    sse       create(stream_format="sse") streamed: text/event-stream whose
              events are exactly speech.audio.delta{type,audio} then one
              speech.audio.done{type,usage{input_tokens,output_tokens,total_tokens}};
              the deltas decode to the plain answer (the SDK has no types for
              these events, so the harness checks their keys strictly)
    errors    the SDK's own exception classes with the provider's message,
              code and param (bad key, bad voice, too long, mp3, unknown model)

  google-genai (pinned), `client.models.generate_content(...)` with
  response_modalities=["AUDIO"] and a speech_config, over TLS (SSL_CERT_FILE):
    generate  one inline_data part, audio/L16 with its rate, plausible PCM,
              finish_reason STOP, usage with AUDIO tokens
    stream    generate_content_stream: several chunks that together equal the
              generate answer, the last with STOP and usage
    errors    errors.ClientError with Google's code, status and message

  replay (either provider, against `serve --engine replay` and the bundled
  cassettes openai/speech-pcm and gemini/tts-stream): the recorded text
  (--text) comes back as plausible audible PCM, streamed in several pieces

Run with the harness venv (scripts/python-env.sh prints its python):

    PY=$(scripts/python-env.sh | tail -n1)
    $PY tests/sdk/http_tts.py --provider openai --base-url http://127.0.0.1:PORT/v1 --scenario sse
    $PY tests/sdk/http_tts.py --provider gemini --base-url https://127.0.0.1:PORT --ca-file ca.pem --scenario generate

Prints `OK <provider> <scenario> ...` as its last line and exits 0, or
`FAIL: ...` and exits 1.
"""
from __future__ import annotations

import argparse
import array
import base64
import io
import json
import math
import os
import sys
import time
import wave

RATE = 24000
SHORT = "Hi."
LONG = "The meeting has moved to noon, and lunch will be served in the garden."


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def pcm_stats(data: bytes, label: str):
    """Checks PCM16 mono bytes; returns (seconds, rms)."""
    check(isinstance(data, (bytes, bytearray)), f"{label}: not bytes but {type(data).__name__}")
    check(len(data) > 0, f"{label}: no audio")
    check(len(data) % 2 == 0, f"{label}: odd byte count {len(data)} is not PCM16")
    samples = array.array("h")
    samples.frombytes(bytes(data))
    if sys.byteorder == "big":
        samples.byteswap()
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768.0
    check(rms > 0.005, f"{label}: audio is silent (rms {rms:.4f})")
    return len(samples) / RATE, rms


def plausible(seconds: float, text: str, label: str):
    # Real TTS speaks ~12-20 characters a second; accept a wide band.
    lo, hi = 0.2, max(1.0, len(text) * 0.15)
    check(lo <= seconds <= hi, f"{label}: {seconds:.2f}s of audio for {len(text)} characters (expected {lo}-{hi:.1f}s)")


# ---------------------------------------------------------------- OpenAI --

def openai_client(args, key=None):
    import openai
    return openai.OpenAI(base_url=args.base_url, api_key=key or args.api_key, max_retries=0, timeout=30)


def speech(client, text, **kw):
    kw.setdefault("response_format", "pcm")
    return client.audio.speech.create(model=kw.pop("model", "gpt-4o-mini-tts"), voice=kw.pop("voice", "alloy"),
                                      input=text, **kw)


def openai_plain(args):
    client = openai_client(args)
    short = speech(client, SHORT).content
    long = speech(client, LONG).content
    s_sec, _ = pcm_stats(short, "short")
    l_sec, rms = pcm_stats(long, "long")
    plausible(s_sec, SHORT, "short")
    plausible(l_sec, LONG, "long")
    check(l_sec > s_sec, f"a longer text must sound longer ({l_sec:.2f}s vs {s_sec:.2f}s)")
    check(speech(client, LONG).content == long, "the same request must give the same audio")
    return f"{len(long)} bytes = {l_sec:.2f}s, rms {rms:.3f}"


def openai_wav(args):
    client = openai_client(args)
    body = speech(client, LONG, response_format="wav").content
    check(body[:4] == b"RIFF" and body[8:12] == b"WAVE", "no RIFF/WAVE header")
    with wave.open(io.BytesIO(body)) as w:
        check(w.getnchannels() == 1, f"{w.getnchannels()} channels")
        check(w.getsampwidth() == 2, f"{w.getsampwidth() * 8}-bit samples")
        check(w.getframerate() == RATE, f"rate {w.getframerate()}")
        frames = w.readframes(w.getnframes())
        check(len(frames) == w.getnframes() * 2, "declared frame count does not match the data")
    check(len(frames) == len(body) - 44, f"the data chunk size ({len(frames)}) does not cover the body")
    pcm = speech(client, LONG).content
    check(frames == pcm, "wav frames differ from the pcm answer for the same text")
    return f"{len(frames) // 2} frames at {RATE} Hz"


def openai_streamed(args):
    client = openai_client(args)
    chunks, times = [], []
    start = time.monotonic()
    with client.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice="alloy", input=LONG, response_format="pcm") as response:
        check(response.http_response.status_code == 200, f"status {response.http_response.status_code}")
        for chunk in response.iter_bytes():
            if chunk:
                chunks.append(chunk)
                times.append(time.monotonic() - start)
    body = b"".join(chunks)
    check(len(chunks) >= 2, f"the body came in {len(chunks)} piece(s); expected a stream")
    check(times[-1] - times[0] >= 0.05, f"all pieces arrived together ({times[0]:.3f}s..{times[-1]:.3f}s)")
    seconds, _ = pcm_stats(body, "streamed")
    check(body == speech(client, LONG).content, "streamed audio differs from the plain answer")
    return f"{len(chunks)} pieces, first after {times[0] * 1000:.0f} ms, last after {times[-1] * 1000:.0f} ms, {seconds:.2f}s"


def openai_sse(args):
    client = openai_client(args)
    events = []
    with client.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice="alloy", input=LONG, response_format="pcm",
            stream_format="sse") as response:
        ctype = response.http_response.headers.get("content-type", "")
        check(ctype.startswith("text/event-stream"), f"content-type {ctype!r}")
        data_lines = []
        for line in response.iter_lines():
            if line == "":
                if data_lines:
                    events.append("\n".join(data_lines))
                    data_lines = []
                continue
            check(line.startswith("data: "), f"unexpected SSE line {line[:80]!r}")
            data_lines.append(line[len("data: "):])
        if data_lines:
            events.append("\n".join(data_lines))
    audio = bytearray()
    done = None
    for i, raw in enumerate(events):
        event = json.loads(raw)
        check(done is None, f"event #{i} after speech.audio.done")
        kind = event.get("type")
        if kind == "speech.audio.delta":
            check(set(event) == {"type", "audio"}, f"delta keys {sorted(event)}")
            audio.extend(base64.b64decode(event["audio"], validate=True))
        elif kind == "speech.audio.done":
            check(set(event) == {"type", "usage"}, f"done keys {sorted(event)}")
            usage = event["usage"]
            check(set(usage) == {"input_tokens", "output_tokens", "total_tokens"}, f"usage keys {sorted(usage)}")
            check(all(isinstance(v, int) and v > 0 for v in usage.values()), f"usage {usage}")
            check(usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"], f"usage {usage}")
            done = event
        else:
            raise Fail(f"unknown event type {kind!r}")
    check(done is not None, "no speech.audio.done")
    deltas = len(events) - 1
    check(deltas >= 2, f"{deltas} delta(s); expected the audio in several")
    pcm_stats(bytes(audio), "sse")
    check(bytes(audio) == speech(client, LONG).content, "SSE audio differs from the plain answer")
    return f"{deltas} deltas + done, usage {done['usage']}"


def openai_errors(args):
    import openai
    bad = openai_client(args, key="sk-understudy-wrong")
    try:
        speech(bad, SHORT)
        raise Fail("a wrong key was accepted")
    except openai.AuthenticationError as e:
        check(e.status_code == 401, f"status {e.status_code}")
        check(e.code == "invalid_api_key", f"code {e.code!r}")
        check(str(e.body.get("message", "")).startswith("Incorrect API key provided"), f"message {e.body}")
    client = openai_client(args)
    cases = [
        (dict(voice="bob"), openai.BadRequestError, "voice", "invalid_value"),
        (dict(text="x" * 4097), openai.BadRequestError, "input", "string_above_max_length"),
        (dict(response_format="mp3"), openai.BadRequestError, "response_format", "unsupported_value"),
        (dict(model="gpt-4o"), openai.NotFoundError, None, "model_not_found"),
        (dict(model="tts-1", stream_format="sse"), openai.BadRequestError, "stream_format", None),
    ]
    for kw, cls, param, code in cases:
        text = kw.pop("text", SHORT)
        try:
            speech(client, text, **kw)
            raise Fail(f"{kw} was accepted")
        except cls as e:
            check(e.param == param, f"{kw}: param {e.param!r}, expected {param!r}")
            if code is not None:
                check(e.code == code, f"{kw}: code {e.code!r}, expected {code!r}")
            check(e.body.get("type") == "invalid_request_error", f"{kw}: type {e.body.get('type')!r}")
            check(bool(e.body.get("message")), f"{kw}: no message")
    pcm_stats(speech(client, SHORT).content, "after the errors")
    return f"401 and {len(cases)} refusals raised the SDK's classes; the server still answers"


# ---------------------------------------------------------------- Gemini --

def gemini_client(args, key=None):
    if args.ca_file:
        os.environ["SSL_CERT_FILE"] = os.path.abspath(args.ca_file)  # before the Client builds its SSL context
    from google import genai
    from google.genai import types
    http_options = types.HttpOptions(base_url=args.base_url, api_version=args.api_version)
    return genai.Client(api_key=key or args.api_key, http_options=http_options)


def tts_config(voice="Kore", modalities=("AUDIO",)):
    from google.genai import types
    return types.GenerateContentConfig(
        response_modalities=list(modalities),
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice))))


def rate_of(mime: str) -> int:
    parts = [p.strip() for p in mime.split(";")]
    check(parts[0].lower() in ("audio/l16", "audio/pcm"), f"mime type {mime!r} is not raw PCM")
    rates = [p.split("=", 1)[1] for p in parts[1:] if p.lower().startswith("rate=")]
    check(len(rates) == 1, f"mime type {mime!r} carries no rate")
    return int(rates[0])


def gemini_generate(args, client=None):
    client = client or gemini_client(args)
    response = client.models.generate_content(model=args.model, contents=LONG, config=tts_config())
    check(len(response.candidates) == 1, f"{len(response.candidates)} candidates")
    candidate = response.candidates[0]
    check(str(candidate.finish_reason).endswith("STOP"), f"finish_reason {candidate.finish_reason}")
    parts = candidate.content.parts
    check(len(parts) == 1 and parts[0].inline_data is not None, f"parts {parts}")
    blob = parts[0].inline_data
    check(rate_of(blob.mime_type) == RATE, f"rate in {blob.mime_type!r}")
    seconds, rms = pcm_stats(blob.data, "generate")
    plausible(seconds, LONG, "generate")
    usage = response.usage_metadata
    check(usage.candidates_token_count and usage.candidates_token_count > 0, f"usage {usage}")
    check(any(str(d.modality).endswith("AUDIO") for d in usage.candidates_tokens_details or []), f"usage {usage}")
    return blob.data, f"{seconds:.2f}s at {RATE} Hz ({blob.mime_type}), rms {rms:.3f}"


def gemini_stream(args):
    client = gemini_client(args)
    chunks = list(client.models.generate_content_stream(model=args.model, contents=LONG, config=tts_config()))
    check(len(chunks) >= 2, f"{len(chunks)} chunk(s); expected a stream")
    audio = bytearray()
    for i, chunk in enumerate(chunks):
        part = chunk.candidates[0].content.parts[0]
        check(part.inline_data is not None, f"chunk {i} has no inline_data")
        check(rate_of(part.inline_data.mime_type) == RATE, f"chunk {i} mime {part.inline_data.mime_type!r}")
        audio.extend(part.inline_data.data)
        last = i == len(chunks) - 1
        reason = chunks[i].candidates[0].finish_reason
        check((reason is not None and str(reason).endswith("STOP")) == last, f"chunk {i}: finish_reason {reason}")
    check(chunks[-1].usage_metadata is not None, "no usage on the last chunk")
    whole, _ = gemini_generate(args, client)
    check(bytes(audio) == whole, "streamed audio differs from the generate answer")
    return f"{len(chunks)} chunks, {len(audio)} bytes"


def gemini_errors(args):
    from google.genai import errors
    bad = gemini_client(args, key="understudy-wrong-key")
    try:
        bad.models.generate_content(model=args.model, contents=SHORT, config=tts_config())
        raise Fail("a wrong key was accepted")
    except errors.ClientError as e:
        check(e.code == 400 and e.status == "INVALID_ARGUMENT", f"{e.code} {e.status}")
        check("API key not valid" in (e.message or ""), f"message {e.message!r}")
    client = gemini_client(args)
    cases = [
        (dict(model="gemini-2.5-flash"), 404, "NOT_FOUND"),
        (dict(config=tts_config(voice="Bob")), 400, "INVALID_ARGUMENT"),
        (dict(config=tts_config(modalities=("TEXT",))), 400, "INVALID_ARGUMENT"),
    ]
    for kw, code, status in cases:
        try:
            client.models.generate_content(model=kw.get("model", args.model), contents=SHORT,
                                           config=kw.get("config", tts_config()))
            raise Fail(f"{kw} was accepted")
        except errors.ClientError as e:
            check((e.code, e.status) == (code, status), f"{kw}: {e.code} {e.status}")
            check(bool(e.message), f"{kw}: no message")
    gemini_generate(args, client)
    return f"wrong key and {len(cases)} refusals raised errors.ClientError; the server still answers"


def openai_replay(args):
    client = openai_client(args)
    body = speech(client, args.text).content
    seconds, rms = pcm_stats(body, "replay")
    plausible(seconds, args.text, "replay")
    pieces = 0
    with client.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice="alloy", input=args.text, response_format="pcm") as response:
        streamed = b""
        for chunk in response.iter_bytes():
            if chunk:
                pieces += 1
                streamed += chunk
    check(pieces >= 2, f"the recorded body came in {pieces} piece(s)")
    check(streamed == body, "two replays of the same cassette differ")
    return f"{seconds:.2f}s in {pieces} pieces, rms {rms:.3f}"


def gemini_replay(args):
    client = gemini_client(args)
    chunks = list(client.models.generate_content_stream(model=args.model, contents=args.text, config=tts_config()))
    check(len(chunks) >= 2, f"{len(chunks)} chunk(s)")
    audio = b"".join(c.candidates[0].content.parts[0].inline_data.data for c in chunks)
    check(str(chunks[-1].candidates[0].finish_reason).endswith("STOP"), "the last chunk is not STOP")
    seconds, rms = pcm_stats(audio, "replay")
    plausible(seconds, args.text, "replay")
    return f"{len(chunks)} chunks, {seconds:.2f}s, rms {rms:.3f}"


SCENARIOS = {
    ("openai", "plain"): openai_plain,
    ("openai", "wav"): openai_wav,
    ("openai", "streamed"): openai_streamed,
    ("openai", "sse"): openai_sse,
    ("openai", "errors"): openai_errors,
    ("gemini", "generate"): lambda a: gemini_generate(a)[1],
    ("gemini", "stream"): gemini_stream,
    ("gemini", "errors"): gemini_errors,
    ("openai", "replay"): openai_replay,
    ("gemini", "replay"): gemini_replay,
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--provider", choices=["openai", "gemini"], required=True)
    p.add_argument("--scenario", required=True)
    p.add_argument("--base-url", required=True)
    p.add_argument("--api-key", default=None)
    p.add_argument("--ca-file", help="PEM of the mock's CA (Gemini over TLS); exported as SSL_CERT_FILE")
    p.add_argument("--api-version", default="v1beta")
    p.add_argument("--model", default=None)
    p.add_argument("--text", default=SHORT, help="what to say (replay: the cassette's text)")
    args = p.parse_args()
    if args.api_key is None:
        args.api_key = "sk-understudy-good" if args.provider == "openai" else "understudy-test-key"
    if args.model is None:
        args.model = "gemini-2.5-flash-preview-tts"
    run = SCENARIOS.get((args.provider, args.scenario))
    if run is None:
        p.error(f"no scenario {args.scenario!r} for {args.provider}")
    try:
        detail = run(args)
    except Fail as e:
        print(f"FAIL: {args.provider} {args.scenario}: {e}")
        return 1
    except Exception as e:  # an SDK error where none was expected
        print(f"FAIL: {args.provider} {args.scenario}: {type(e).__name__}: {e}")
        return 1
    print(f"OK {args.provider} {args.scenario} {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
