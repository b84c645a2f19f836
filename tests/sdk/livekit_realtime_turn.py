#!/usr/bin/env python3
"""Drive the OpenAI Realtime plugin of livekit-agents (pinned, unmodified) through a
`generate_reply()` turn against a mock server. No LiveKit room is needed: the plugin's
`RealtimeModel(base_url=...)` opens its `RealtimeSession` straight to the mock.

livekit-agents sends `response.create` with `response.metadata = {"client_event_id": ...}`
and matches the `response.created` it gets back by that metadata; a server that does not
echo it makes `generate_reply()` time out after 10 s ("generate_reply timed out.").

Run with the livekit virtualenv (`scripts/python-env.sh --profile livekit` prints its python):

    PY=$(scripts/python-env.sh --profile livekit | tail -n1)
    $PY tests/sdk/livekit_realtime_turn.py --base-url http://127.0.0.1:PORT/v1 [--modality text|audio]

Output: progress lines, then `OK generate-reply <modality> ...` (exit 0) or `FAIL: ...` (exit 1).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
import typing
from typing import Any, Dict, List


class HarnessFailure(Exception):
    """A conformance failure (exit 1)."""


def fail(msg: str) -> typing.NoReturn:
    raise HarnessFailure(msg)


async def _read_message(msg: Any) -> Dict[str, Any]:
    """Reads one generated message: its text and audio streams, concurrently."""
    text: List[str] = []
    audio = {"frames": 0, "samples": 0, "rate": None}

    async def read_text() -> None:
        async for piece in msg.text_stream:
            text.append(str(piece))

    async def read_audio() -> None:
        async for frame in msg.audio_stream:
            audio["frames"] += 1
            audio["samples"] += frame.samples_per_channel
            audio["rate"] = frame.sample_rate

    await asyncio.gather(read_text(), read_audio())
    modalities = await msg.modalities
    return {"id": msg.message_id, "text": "".join(text), "audio": audio, "modalities": list(modalities)}


async def run(args: argparse.Namespace) -> int:
    import aiohttp
    from livekit.agents import llm
    from livekit.plugins import openai as lk_openai

    server_events: List[str] = []
    errors: List[Any] = []
    async with aiohttp.ClientSession() as http:
        model = lk_openai.realtime.RealtimeModel(
            model="gpt-realtime",
            base_url=args.base_url,
            api_key="understudy-livekit-key",
            http_session=http,
            modalities=[args.modality] if args.modality == "text" else ["text", "audio"],
        )
        session = model.session()
        session.on("openai_server_event_received", lambda ev: server_events.append(ev.get("type", "?")))
        session.on("error", lambda ev: errors.append(ev))
        try:
            chat_ctx = llm.ChatContext.empty()
            chat_ctx.add_message(role="user", content="Hello understudy, are you there?")
            await session.update_chat_ctx(chat_ctx)
            print("-> generate_reply()", flush=True)
            t0 = time.monotonic()
            try:
                generation = await session.generate_reply(instructions="Answer in one sentence.")
            except Exception as e:  # the plugin raises RealtimeError("generate_reply timed out.")
                fail(f"generate_reply() failed after {time.monotonic() - t0:.1f}s: {type(e).__name__}: {e} "
                     f"(server events: {server_events})")
            if not generation.user_initiated:
                fail("the generation was not matched to generate_reply() (user_initiated is False)")
            print(f"<- generation {generation.response_id} matched to generate_reply() "
                  f"in {time.monotonic() - t0:.2f}s", flush=True)
            messages = []
            async for msg in generation.message_stream:
                messages.append(await _read_message(msg))
            async for call in generation.function_stream:
                fail(f"unexpected function call {call}")
            if len(messages) != 1:
                fail(f"expected one generated message, got {len(messages)}")
            message = messages[0]
            print(f"   message {message['id']}: modalities {message['modalities']}, text {message['text']!r}, "
                  f"{message['audio']['frames']} audio frames", flush=True)
            if not message["text"].strip():
                fail("the reply has no text")
            if args.modality == "audio":
                if message["audio"]["samples"] == 0:
                    fail("an audio reply with no audio frames")
                if message["audio"]["rate"] != 24000:
                    fail(f"audio at {message['audio']['rate']} Hz, expected 24000")
            if "response.done" not in server_events:
                fail(f"no response.done among the server events {server_events}")
            if errors:
                fail(f"the session reported errors: {errors}")
        finally:
            await session.aclose()
            await model.aclose()
    print(f"OK generate-reply {args.modality} {len(server_events)} server events", flush=True)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:PORT/v1")
    p.add_argument("--modality", choices=["text", "audio"], default="audio")
    p.add_argument("--timeout", type=float, default=30.0, help="overall timeout in seconds (default 30)")
    args = p.parse_args()
    t0 = time.monotonic()
    try:
        return asyncio.run(asyncio.wait_for(run(args), timeout=args.timeout))
    except HarnessFailure as f:
        print(f"FAIL: generate-reply {args.modality}: {f} ({time.monotonic() - t0:.1f}s)", flush=True)
        return 1
    except asyncio.TimeoutError:
        print(f"FAIL: generate-reply {args.modality}: timeout after {args.timeout:g}s", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
