#!/usr/bin/env python3
"""Drive AgentScope's own realtime voice agent on Qwen-Audio-Realtime against a
mock server: `agentscope.agent.RealtimeAgent` (unmodified, pinned in
`scripts/requirements-agentscope.txt`) over its `DashScopeAudioRealtimeModel`,
with a toolkit, fed by a transport the test drives — the flow an AgentScope
voice app runs, not our own client.

    PY=$(scripts/python-env.sh --profile agentscope | tail -n1)
    $PY tests/sdk/agentscope_qwen_audio.py --base-url http://127.0.0.1:PORT --scenario tool
    $PY tests/sdk/agentscope_qwen_audio.py --base-url … --scenario typed
    $PY tests/sdk/agentscope_qwen_audio.py --base-url … --scenario history
    $PY tests/sdk/agentscope_qwen_audio.py --base-url … --scenario smart-turn

AgentScope 2.0.11 ships no card for the Qwen-Audio models (its `list_models`
looks in an `_audio_models/` folder the wheel lacks), so a card is passed with
`model_card=`, as its own error message tells a user to. Everything else is
AgentScope's code path: `session.update` built by the model class, tools from
the `Toolkit` in Chat-Completions shape, the agent's tool loop
(`push_tool_result` then `request_response`), `push_text` for typed turns and
`replay_history` when a session is re-opened with history.

Scenarios:
  tool        a spoken weather question (server VAD); the agent runs its tool
              and the model speaks a second reply that uses the result;
  typed       a typed turn (`agent.send(str)`) gets a spoken reply;
  history     a spoken turn with a tool, then the agent re-connects: the new
              session is seeded by `replay_history` (user and assistant text,
              the call and its result) and a typed turn is answered, with no
              `error` from the server;
  smart-turn  `smart_turn` with a voiceprint URL: a distant bystander then the
              user; only the user is answered (AgentScope drops the ambient
              transcription frames; the agent must see one user turn only).

Output: progress lines, finally `OK <scenario> …` (exit 0) or `FAIL: …` (exit 1).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import urllib.request
import wave
from typing import Any, AsyncIterator, List

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AUDIO = os.path.join(REPO_ROOT, "fixtures", "audio")
MODEL = "qwen-audio-3.1-realtime-plus"
CHUNK_BYTES = 640  # 20 ms of 16 kHz PCM16
WEATHER_RESULT = "Sunny and 21 degrees"


class HarnessFailure(Exception):
    """A conformance failure (exit 1)."""


def fail(msg: str) -> "typing.NoReturn":  # noqa: F821
    raise HarnessFailure(msg)


def clip(name: str) -> bytes:
    with wave.open(os.path.join(AUDIO, name)) as w:
        if w.getframerate() != 16000 or w.getsampwidth() != 2 or w.getnchannels() != 1:
            fail(f"{name}: expected 16 kHz mono PCM16")
        return w.readframes(w.getnframes())


from agentscope.agent import RealtimeAgent  # noqa: E402
from agentscope.credential import DashScopeCredential  # noqa: E402
from agentscope.event import (  # noqa: E402
    ReplyEndEvent,
    ReplyStartEvent,
    ToolCallEndEvent,
    ToolResultEndEvent,
)
from agentscope.permission import PermissionBehavior, PermissionDecision  # noqa: E402
from agentscope.realtime import DashScopeAudioRealtimeModel, RealtimeModelCard  # noqa: E402
from agentscope.realtime._playout import PlayoutPosition  # noqa: E402
from agentscope.realtime._transport._base import (  # noqa: E402
    AudioFrame,
    TransportBase,
    TransportFrame,
)
from agentscope.tool import FunctionTool, Toolkit  # noqa: E402


class ScriptedTransport(TransportBase):
    """A transport the test drives: it plays PCM in real time (20 ms chunks),
    then keeps the line open with silence until told to hang up, and collects
    what the agent plays back."""

    input_sample_rate = 16000
    output_sample_rate = 24000

    def __init__(self, pcm: bytes) -> None:
        self._pcm = pcm
        self._hang_up = asyncio.Event()
        self.played: dict[str, int] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._hang_up.set()

    def hang_up(self) -> None:
        self._hang_up.set()

    async def incoming(self) -> AsyncIterator[TransportFrame]:
        pcm = self._pcm
        for i in range(0, len(pcm), CHUNK_BYTES):
            if self._hang_up.is_set():
                return
            yield AudioFrame(pcm=pcm[i : i + CHUNK_BYTES])
            await asyncio.sleep(0.02)
        silence = b"\0" * CHUNK_BYTES
        while not self._hang_up.is_set():
            yield AudioFrame(pcm=silence)
            await asyncio.sleep(0.02)

    async def send_audio(self, pcm: bytes, item_id: str) -> None:
        self.played[item_id] = self.played.get(item_id, 0) + len(pcm)

    async def clear_audio(self) -> PlayoutPosition:
        return PlayoutPosition(item_id="")

    def playout(self) -> PlayoutPosition:
        return PlayoutPosition(item_id="")


calls: List[dict] = []


async def get_weather(city: str) -> str:
    """Get today's weather for a city.

    Args:
        city (`str`): The city to look up.
    """
    calls.append({"city": city})
    return f"{WEATHER_RESULT} in {city}"


def make_agent(base_url: str, turn_detection: str = "server_vad") -> RealtimeAgent:
    card = RealtimeModelCard(
        name=MODEL,
        label="Qwen-Audio 3.1 Realtime Plus",
        model_type="dashscope_audio_realtime",
        supports_tools=True,
    )
    params = DashScopeAudioRealtimeModel.Parameters(
        turn_detection=turn_detection,
        voiceprint_audio_urls=(
            ["https://example.com/voiceprints/target-speaker.wav"]
            if turn_detection == "smart_turn"
            else []
        ),
    )
    model = DashScopeAudioRealtimeModel(
        MODEL,
        DashScopeCredential(api_key="sk-understudy-test", base_url=base_url),
        parameters=params,
        model_card=card,
    )
    allow = PermissionDecision(behavior=PermissionBehavior.ALLOW, message="test")
    toolkit = Toolkit(tools=[FunctionTool(get_weather, permission=allow)])
    return RealtimeAgent(
        name="assistant",
        system_prompt="You are a helpful voice assistant.",
        model=model,
        toolkit=toolkit,
    )


async def run_until(agent: RealtimeAgent, transport: ScriptedTransport, replies: int,
                    timeout: float) -> list:
    """Pump the agent until `replies` assistant replies ended, then hang up.
    The agent reports the user's own turn as a reply too (role `user`); only
    assistant replies count. One assistant reply spans its tool calls and
    the response after them."""
    events: list = []
    roles: dict = {}

    async def pump() -> None:
        ended = 0
        async for event in agent.reply_stream(transport):
            events.append(event)
            name = type(event).__name__
            if name not in ("DataBlockDeltaEvent", "TextBlockDeltaEvent"):
                print(f"<- {name}", flush=True)
            if isinstance(event, ReplyStartEvent):
                roles[event.reply_id] = event.role
            if isinstance(event, ReplyEndEvent) and roles.get(event.reply_id) == "assistant":
                ended += 1
                if ended >= replies:
                    transport.hang_up()

    try:
        await asyncio.wait_for(pump(), timeout)
    except asyncio.TimeoutError:
        fail(f"timed out after {timeout}s waiting for {replies} replies; saw "
             f"{[type(e).__name__ for e in events][-15:]}")
    return events


def assistant_texts(agent: RealtimeAgent) -> List[str]:
    return [m.get_text_content() or "" for m in agent.state.context if m.role == "assistant"]


def user_texts(agent: RealtimeAgent) -> List[str]:
    return [m.get_text_content() or "" for m in agent.state.context if m.role == "user"]


def journal_errors(base_url: str) -> List[str]:
    """`error` frames the server sent in the newest session (the journal)."""
    with urllib.request.urlopen(f"{base_url}/__understudy/sessions?limit=1000") as r:
        sessions = json.load(r)["sessions"]
    newest = max(s["session"] for s in sessions)
    with urllib.request.urlopen(f"{base_url}/__understudy/sessions/{newest}") as r:
        entries = json.load(r)["entries"]
    return [e["detail"] for e in entries if e["kind"] == "server" and e["label"] == "error"]


async def scenario_tool(base_url: str) -> str:
    agent = make_agent(base_url)
    await agent.connect()
    transport = ScriptedTransport(clip("user-weather-16k.wav"))
    events = await run_until(agent, transport, replies=1, timeout=30)
    await agent.close()
    tool_ends = [e for e in events if isinstance(e, ToolCallEndEvent)]
    results = [e for e in events if isinstance(e, ToolResultEndEvent)]
    if calls != [{"city": "Paris"}]:
        fail(f"the agent ran get_weather with {calls}, expected one call for Paris")
    if not tool_ends or not results:
        fail("no ToolCallEnd/ToolResultEnd event from the agent")
    texts = " ".join(assistant_texts(agent))
    if f"found: {WEATHER_RESULT} in Paris".lower() not in texts.lower():
        fail(f"the follow-up reply does not use the tool result: {texts!r}")
    if sum(transport.played.values()) == 0:
        fail("no assistant audio reached the transport")
    if errors := journal_errors(base_url):
        fail(f"the server sent error frames: {errors}")
    return f"tool call get_weather(Paris) answered: {texts[-60:]!r}"


async def scenario_typed(base_url: str) -> str:
    agent = make_agent(base_url)
    await agent.connect()
    transport = ScriptedTransport(b"")
    pump = asyncio.create_task(run_until(agent, transport, replies=1, timeout=20))
    await asyncio.sleep(0.2)
    await agent.send("Please say hello to the team.")
    await pump
    await agent.close()
    texts = assistant_texts(agent)
    if not texts or "hello to the team" not in texts[-1].lower():
        fail(f"the typed turn was not answered: {texts}")
    if sum(transport.played.values()) == 0:
        fail("no assistant audio reached the transport")
    if errors := journal_errors(base_url):
        fail(f"the server sent error frames: {errors}")
    return f"typed turn answered: {texts[-1]!r}"


async def scenario_history(base_url: str) -> str:
    agent = make_agent(base_url)
    await agent.connect()
    transport = ScriptedTransport(clip("user-weather-16k.wav"))
    await run_until(agent, transport, replies=1, timeout=30)
    before = len(agent.state.context)
    await agent.close()
    # A new session on the same agent: AgentScope seeds it with the history.
    await agent.connect()
    transport = ScriptedTransport(b"")
    pump = asyncio.create_task(run_until(agent, transport, replies=1, timeout=20))
    await asyncio.sleep(0.2)
    await agent.send("Thanks, that is all.")
    await pump
    await agent.close()
    with urllib.request.urlopen(f"{base_url}/__understudy/sessions?limit=1000") as r:
        newest = max(s["session"] for s in json.load(r)["sessions"])
    with urllib.request.urlopen(f"{base_url}/__understudy/sessions/{newest}") as r:
        entries = json.load(r)["entries"]
    created = [json.loads(e["detail"]) for e in entries
               if e["kind"] == "client" and e["label"] == "conversation.item.create"]
    kinds = [c["item"]["type"] for c in created]
    if "function_call" not in kinds or "function_call_output" not in kinds:
        fail(f"the re-opened session was not seeded with the call and its result: {kinds}")
    roles = [c["item"].get("role") for c in created if c["item"]["type"] == "message"]
    if "assistant" not in roles or "user" not in roles:
        fail(f"the re-opened session was not seeded with both sides' text: {roles}")
    if errors := journal_errors(base_url):
        fail(f"the server refused the seeded history: {errors}")
    texts = assistant_texts(agent)
    if "that is all" not in texts[-1].lower():
        fail(f"the typed turn after the history was not answered: {texts[-1]!r}")
    return f"history replayed ({len(created)} items from {before} messages), then answered"


async def scenario_smart_turn(base_url: str) -> str:
    agent = make_agent(base_url, turn_detection="smart_turn")
    await agent.connect()
    pcm = clip("user-order-16k-distant.wav") + b"\0" * 32000 + clip("user-weather-16k.wav")
    transport = ScriptedTransport(pcm)
    await run_until(agent, transport, replies=1, timeout=40)
    await agent.close()
    users = user_texts(agent)
    if any("order" in u.lower() for u in users):
        fail(f"the bystander's ambient speech reached the agent as a user turn: {users}")
    if calls != [{"city": "Paris"}]:
        fail(f"expected one get_weather(Paris) for the addressed speaker, got {calls}")
    if errors := journal_errors(base_url):
        fail(f"the server sent error frames: {errors}")
    return f"ambient speech ignored; user turns {users}"


SCENARIOS = {
    "tool": scenario_tool,
    "typed": scenario_typed,
    "history": scenario_history,
    "smart-turn": scenario_smart_turn,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True,
                        help="the mock's HTTP base URL, as AgentScope's credential takes it")
    parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    args = parser.parse_args()
    try:
        summary = asyncio.run(SCENARIOS[args.scenario](args.base_url))
    except HarnessFailure as e:
        print(f"FAIL: {e}", flush=True)
        return 1
    print(f"OK {args.scenario} {summary}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
