#!/usr/bin/env python3
"""Gemini 3.8 Live flows with the *unmodified* official `google-genai` SDK against a mock
over TLS: a non-blocking tool call while the model keeps speaking, a blocking call
cancelled by new input, and Extended Thinking's `receive()` that runs until IDLE.

Every raw server frame is checked strictly by the validator of `gemini_live_turn.py`
(camelCase keys, one primary key, the SDK's own pydantic models with extra='forbid',
audio blobs) and the SDK's own parse of each frame must agree with the strict parse.
Then each flow checks the protocol points it is about, on the raw frames (order,
presence and absence of frames) and on what the SDK yielded.

    PY=$(scripts/python-env.sh | tail -n1)
    $PY tests/sdk/gemini_live_38.py --base-url https://127.0.0.1:PORT --ca-file ca.pem --flow non-blocking
    $PY tests/sdk/gemini_live_38.py ... --flow blocking-cancelled --late-response
    $PY tests/sdk/gemini_live_38.py ... --flow extended-thinking --expect-thoughts \\
        --header X-Understudy-Cassette=gemini/38-extended-thinking

Flows (the typed turns are those of the bundled `gemini/38-*` cassettes):
  non-blocking        gemini-3.8-live, get_weather NON_BLOCKING. The weather question's turn
                      carries the toolCall, then the model keeps speaking (audio after the
                      toolCall) and ends the turn with the call pending; a second question is
                      answered while it is pending; the toolResponse (scheduling WHEN_IDLE)
                      is answered in a third turn. No interactionStatus (3.8 Live does not
                      send it); 3.x multi-part messages (audio + transcript in one).
  blocking-cancelled  gemini-3.8-live, get_weather BLOCKING. The toolCall pauses the turn (no
                      turnComplete); new input interrupts it (interrupted, turnComplete)
                      without toolCallCancellation and is answered. --late-response then
                      sends the cancelled call's toolResponse and requires silence after it.
  extended-thinking   gemini-3.8-live-extended-thinking with thinking_config (LOW, thoughts).
                      One `session.receive()` loop answers the toolCall and must run past a
                      turnComplete + IN_PROGRESS and end at the IDLE frame, which comes after
                      the toolResponse was sent. --expect-thoughts requires thought parts.

Output: `OK <flow> <N> messages` (exit 0) or `FAIL: ...` (exit 1).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any, Callable, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gemini_live_turn as base  # noqa: E402  (the strict frame validator and recording connection)

from gemini_live_turn import HarnessFailure, fail  # noqa: E402

INSTRUCTIONS = "You are a terse assistant used by the Understudy SDK conformance test."
WEATHER_QUESTION = "What's the weather in Paris?"
OTHER_REQUEST = "Remember that the code is 42."
OTHER_ANSWER = "Noted: the code is 42."
FILLER = "One moment, I am working on that."
RESULT_PREFIX = "Here is what I found"


def weather_tool(types: Any, behavior: Any) -> Any:
    return types.Tool(function_declarations=[types.FunctionDeclaration(
        name="get_weather", description="Get the current weather for a city.",
        parameters=types.Schema(type=types.Type.OBJECT, properties={
            "city": types.Schema(type=types.Type.STRING, description="City name")}, required=["city"]),
        behavior=behavior)])


def config_for(types: Any, flow: str) -> Any:
    common = dict(
        response_modalities=[types.Modality.AUDIO],
        output_audio_transcription=types.AudioTranscriptionConfig(),
        session_resumption=types.SessionResumptionConfig(),
        system_instruction=types.Content(role="user", parts=[types.Part(text=INSTRUCTIONS)]),
    )
    if flow == "blocking-cancelled":
        return types.LiveConnectConfig(tools=[weather_tool(types, types.Behavior.BLOCKING)], **common)
    if flow == "extended-thinking":
        return types.LiveConnectConfig(
            tools=[weather_tool(types, types.Behavior.NON_BLOCKING)],
            thinking_config=types.ThinkingConfig(thinking_level=types.ThinkingLevel.LOW, include_thoughts=True),
            **common)
    return types.LiveConnectConfig(tools=[weather_tool(types, types.Behavior.NON_BLOCKING)], **common)


MODELS = {"non-blocking": "gemini-3.8-live", "blocking-cancelled": "gemini-3.8-live",
          "extended-thinking": "gemini-3.8-live-extended-thinking"}


# --------------------------------------------------------------------------------------
# Reading what the SDK yields
# --------------------------------------------------------------------------------------

async def receive(session: Any, state: base.State, stop: Optional[Callable[[Any], bool]] = None,
                  on_message: Optional[Callable[[Any], Any]] = None) -> List[Any]:
    """One `session.receive()` iteration: until the SDK ends it (turnComplete, or IDLE when
    interactionStatus is used) or `stop(msg)`. Every message is kept for the cross-check."""
    got: List[Any] = []
    async for msg in session.receive():
        state.sdk_messages.append(msg)
        got.append(msg)
        if on_message is not None:
            await on_message(msg)
        if stop is not None and stop(msg):
            break
    return got


def transcript(msgs: List[Any]) -> str:
    return "".join(m.server_content.output_transcription.text or "" for m in msgs
                   if m.server_content is not None and m.server_content.output_transcription is not None)


def audio_parts(msgs: List[Any]) -> int:
    return sum(1 for m in msgs if m.server_content is not None and m.server_content.model_turn is not None
               for p in m.server_content.model_turn.parts or [] if p.inline_data is not None)


def tool_calls(msgs: List[Any]) -> List[Any]:
    return [c for m in msgs if m.tool_call is not None for c in m.tool_call.function_calls or []]


def raw_index(state: base.State, pred: Callable[[dict], bool], start: int = 0) -> Optional[int]:
    for f in state.frames[start:]:
        if pred(f.data):
            return f.index
    return None


def content(d: dict) -> dict:
    return d.get("serverContent") or {}


# --------------------------------------------------------------------------------------
# Flows
# --------------------------------------------------------------------------------------

async def flow_non_blocking(session: Any, types: Any, state: base.State, args: argparse.Namespace) -> str:
    await session.send_client_content(
        turns=types.Content(role="user", parts=[types.Part(text=WEATHER_QUESTION)]), turn_complete=True)
    state.waiting_for = "the weather turn (toolCall, filler, turnComplete)"
    first = await receive(session, state)
    calls = tool_calls(first)
    if len(calls) != 1 or calls[0].name != "get_weather" or (calls[0].args or {}).get("city") != "Paris":
        fail(f"expected one get_weather(city=Paris) call in the first turn, got {calls!r}")
    call = calls[0]
    after_call = first[[i for i, m in enumerate(first) if m.tool_call is not None][0]:]
    if audio_parts(after_call) == 0:
        fail("the model did not keep speaking after the non-blocking toolCall")
    if not transcript(after_call).startswith(FILLER.split(",")[0]):
        fail(f"the speech after the call is {transcript(after_call)!r}, expected the filler {FILLER!r}")
    if not (first[-1].server_content and first[-1].server_content.turn_complete):
        fail("the first turn did not end with turnComplete while the call was pending")
    # Another question while the call is pending.
    await session.send_client_content(
        turns=types.Content(role="user", parts=[types.Part(text=OTHER_REQUEST)]), turn_complete=True)
    state.waiting_for = "the answer to another question while the call is pending"
    second = await receive(session, state)
    if transcript(second) != OTHER_ANSWER:
        fail(f"while the call was pending the model answered {transcript(second)!r}, expected {OTHER_ANSWER!r}")
    if tool_calls(second):
        fail("a second toolCall came while the first was pending")
    # The result, WHEN_IDLE.
    response = types.FunctionResponse(id=call.id, name=call.name, response={"output": {"temperature_c": 18}},
                                      scheduling=types.FunctionResponseScheduling.WHEN_IDLE)
    await session.send_tool_response(function_responses=[response])
    state.waiting_for = "the answer from the WHEN_IDLE result"
    third = await receive(session, state)
    if not transcript(third).startswith(RESULT_PREFIX):
        fail(f"the result was answered with {transcript(third)!r}, expected {RESULT_PREFIX!r}…")
    # Raw frames: no interactionStatus on 3.8 Live; 3.x puts audio and transcript together.
    if raw_index(state, lambda d: "interactionStatus" in content(d)) is not None:
        fail("gemini-3.8-live sent interactionStatus")
    if raw_index(state, lambda d: "modelTurn" in content(d) and "outputTranscription" in content(d)) is None:
        fail("no 3.x multi-part serverContent (modelTurn + outputTranscription in one message)")
    return (f"call {call.id} pending over {len(first) + len(second)} messages; filler {transcript(after_call)!r}; "
            f"meanwhile {transcript(second)!r}; result {transcript(third)!r}")


async def flow_blocking_cancelled(session: Any, types: Any, state: base.State, args: argparse.Namespace) -> str:
    await session.send_client_content(
        turns=types.Content(role="user", parts=[types.Part(text=WEATHER_QUESTION)]), turn_complete=True)
    state.waiting_for = "the blocking toolCall"
    first = await receive(session, state, stop=lambda m: m.tool_call is not None)
    calls = tool_calls(first)
    if len(calls) != 1:
        fail(f"expected one toolCall, got {calls!r}")
    call = calls[0]
    # The turn is paused: nothing more comes while the call is pending.
    seen = len(state.frames)
    await asyncio.sleep(args.pause_s)
    if len(state.frames) != seen:
        fail(f"the blocking call did not pause the turn: {state.summary()}")
    at_input = len(state.frames)
    await session.send_client_content(
        turns=types.Content(role="user", parts=[types.Part(text=OTHER_REQUEST)]), turn_complete=True)
    state.waiting_for = "the cancelled turn's interrupted + turnComplete"
    cut = await receive(session, state)
    if not any(m.server_content and m.server_content.interrupted for m in cut):
        fail("new input did not interrupt the paused turn")
    if any(m.server_content and m.server_content.model_turn for m in cut):
        fail("the cancelled call's turn went on speaking")
    state.waiting_for = "the answer to the new input"
    answer = await receive(session, state)
    if transcript(answer) != OTHER_ANSWER:
        fail(f"the new input was answered {transcript(answer)!r}, expected {OTHER_ANSWER!r}")
    cancellation = raw_index(state, lambda d: "toolCallCancellation" in d, at_input)
    if cancellation is not None:
        fail("a toolCallCancellation was sent (the default, per the one 3.8 report, is none)")
    late = ""
    if args.late_response:
        before = len(state.frames)
        await session.send_tool_response(function_responses=[types.FunctionResponse(
            id=call.id, name=call.name, response={"output": {"temperature_c": 18}})])
        state.waiting_for = "(silence after the late response)"
        await base.drain(session, state, args.pause_s)
        spoken = [f for f in state.frames[before:] if "toolCall" in f.data or "modelTurn" in content(f.data)]
        if spoken:
            fail(f"the late response to the cancelled call was acted on: {[f.label() for f in spoken]}")
        late = "; the late response was ignored"
    return f"call {call.id} paused the turn and was cancelled by new input without a frame{late}"


async def flow_extended_thinking(session: Any, types: Any, state: base.State, args: argparse.Namespace) -> str:
    answered: List[int] = []

    async def answer_calls(msg: Any) -> None:
        for call in tool_calls([msg]):
            await session.send_tool_response(function_responses=[types.FunctionResponse(
                id=call.id, name=call.name, response={"output": {"temperature_c": 18}})])
            answered.append(len(state.frames))

    await session.send_client_content(
        turns=types.Content(role="user", parts=[types.Part(text=WEATHER_QUESTION)]), turn_complete=True)
    state.waiting_for = "receive() until interactionStatus IDLE"
    msgs = await receive(session, state, on_message=answer_calls)
    if len(answered) != 1:
        fail(f"expected one toolCall to answer, answered {len(answered)}")
    statuses = [(i, m.server_content.interaction_status) for i, m in enumerate(msgs)
                if m.server_content is not None and m.server_content.turn_complete]
    names = [str(getattr(s, "value", s)) for _, s in statuses]
    if names[:1] != ["IN_PROGRESS"] or names[-1:] != ["IDLE"]:
        fail(f"turnComplete statuses {names}, expected IN_PROGRESS first and IDLE last")
    if statuses[-1][0] != len(msgs) - 1:
        fail("receive() did not end at the IDLE message")
    idle = raw_index(state, lambda d: content(d).get("interactionStatus") == "IDLE")
    if idle is None or idle < answered[0]:
        fail(f"IDLE (frame #{idle}) came before the toolResponse was sent (after frame #{answered[0]})")
    thoughts = [p.text for m in msgs if m.server_content and m.server_content.model_turn
                for p in m.server_content.model_turn.parts or [] if p.thought]
    if args.expect_thoughts and not thoughts:
        fail("includeThoughts was set but no thought parts came")
    answer = transcript(msgs[statuses[0][0] + 1:])
    if not answer.startswith(RESULT_PREFIX):
        fail(f"after IN_PROGRESS the model said {answer!r}, expected {RESULT_PREFIX!r}…")
    return (f"receive() ran through {len(msgs)} messages: statuses {names}; "
            f"{len(thoughts)} thought part(s); answer {answer!r}")


FLOWS = {"non-blocking": flow_non_blocking, "blocking-cancelled": flow_blocking_cancelled,
         "extended-thinking": flow_extended_thinking}


# --------------------------------------------------------------------------------------

async def run(args: argparse.Namespace, state_box: List[base.State]) -> int:
    if args.ca_file:
        os.environ["SSL_CERT_FILE"] = os.path.abspath(args.ca_file)
    from google import genai
    from google.genai import errors, types

    state = base.State(base.FrameValidator(), show_frames=args.show_frames)
    state_box.append(state)
    conn_cls = base.make_recording_connection(state)
    http_options = types.HttpOptions(
        base_url=args.base_url, api_version=args.api_version,
        headers=base.parse_headers(args.header) or None,
        async_client_args={"create_connection": conn_cls})
    client = genai.Client(api_key=args.api_key, http_options=http_options)
    print(f"   google-genai {genai.__version__}; tls: {base.check_sdk_ssl_context(client, args.ca_file)}", flush=True)
    state.waiting_for = "connect + setupComplete"
    try:
        async with client.aio.live.connect(model=MODELS[args.flow], config=config_for(types, args.flow)) as session:
            if not isinstance(session._ws, conn_cls):
                fail("the SDK ignored create_connection: these flows need every raw frame")
            details = await FLOWS[args.flow](session, types, state, args)
            await base.drain(session, state, args.drain_ms / 1000.0)
            if state.failure:
                raise state.failure
            base.cross_check(state)
    except HarnessFailure:
        raise
    except errors.APIError as e:
        if state.failure:
            raise state.failure
        fail(f"SDK raised APIError code={e.code} ({str(e)[:200]!r}) while waiting for {state.waiting_for}")
    except Exception as e:
        if state.failure:
            raise state.failure
        fail(f"SDK raised {type(e).__name__}: {e} while waiting for {state.waiting_for}")
    print(f"   {details}", flush=True)
    print(f"OK {args.flow} {len(state.frames)} messages", flush=True)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", required=True)
    p.add_argument("--api-version", default="v1beta")
    p.add_argument("--ca-file")
    p.add_argument("--api-key", default=base.DEFAULT_API_KEY)
    p.add_argument("--flow", choices=sorted(FLOWS), required=True)
    p.add_argument("--header", action="append", default=[], metavar="K=V")
    p.add_argument("--late-response", action="store_true",
                   help="blocking-cancelled: send the cancelled call's response and require silence")
    p.add_argument("--expect-thoughts", action="store_true",
                   help="extended-thinking: require thought parts (the respond engine sends them)")
    p.add_argument("--pause-s", type=float, default=0.8, help="how long silence must last (default 0.8)")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--drain-ms", type=float, default=500.0)
    p.add_argument("--show-frames", action="store_true")
    args = p.parse_args()
    t0 = time.monotonic()
    state_box: List[base.State] = []
    try:
        return asyncio.run(asyncio.wait_for(run(args, state_box), timeout=args.timeout))
    except HarnessFailure as f:
        print(f"FAIL: {args.flow}: {f} ({time.monotonic() - t0:.1f}s)", flush=True)
        return 1
    except asyncio.TimeoutError:
        st = state_box[0] if state_box else None
        if st is not None and st.failure is not None:
            print(f"FAIL: {args.flow}: {st.failure}", flush=True)
            return 1
        print(f"FAIL: {args.flow}: timeout after {args.timeout:g}s waiting for "
              f"{st.waiting_for if st else 'startup'}; server messages seen: {st.summary() if st else '(none)'}",
              flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
