"""Runs the README's official-SDK snippets as written, in order, then checks each.

The Rust test (`cli/tests/readme_snippets.rs`) extracts the snippets of the
README's "Pointing the official SDKs at it" block, changes only their addresses
(to a `understudy serve --tls-port 0 --ca-file F` on free ports) and passes them
here as files, in README order. They run in one namespace, as a reader pasting
the block would run them; top-level `await`/`async with` are allowed (the
snippets are written for an async REPL such as `python -m asyncio`). After each
snippet the check named by its first line inspects what it left behind, so a
snippet that silently does nothing fails. Set SSL_CERT_FILE to the CA file
before starting (the Gemini snippet says so).

    $PY tests/sdk/readme_snippets.py SNIPPET_FILE...

Prints `OK <label>` per snippet, then `OK readme-snippets N`; exits 1 on the
first failure, and after 120 s per snippet (SIGALRM) rather than hang.
"""
import ast
import asyncio
import inspect
import signal
import sys
import time
from typing import Callable, Dict, List, Tuple

PER_SNIPPET_SECONDS = 120


class Failure(Exception):
    """A snippet ran but did not leave what it should."""


def _check_openai_ga(ns: Dict) -> str:
    event = ns.get("event")
    if getattr(event, "type", None) != "response.done":
        raise Failure(f"the loop did not end on response.done: {event!r}")
    status = event.response.status
    if status != "completed":
        raise Failure(f"response.done status {status!r}")
    return f"response {event.response.id} completed"


def _check_gpt_live(ns: Dict) -> str:
    started = ns.get("started")
    if getattr(started, "type", None) != "session.started":
        raise Failure(f"the first event is not session.started: {started!r}")
    return f"session.started {started.session.model}"


def _check_gemini(ns: Dict) -> str:
    message = ns.get("message")
    content = getattr(message, "server_content", None)
    if content is None or not content.turn_complete:
        raise Failure(f"receive() did not end on turn_complete: {message!r}")
    return "turn_complete"


def _check_openai_http(ns: Dict) -> str:
    speech = ns.get("speech")
    pcm = speech.content if speech is not None else b""
    if not pcm or len(pcm) % 2:
        raise Failure(f"speech.create gave {len(pcm)} bytes, not PCM16")
    chunks = ns.get("chunks") or []
    finished = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    if not finished:
        raise Failure(f"the chat stream ({len(chunks)} chunks) has no finish_reason")
    audio = [c for c in chunks if c.choices and getattr(c.choices[0].delta, "audio", None)]
    if not audio:
        raise Failure("the chat stream carried no audio delta")
    return f"{len(pcm)} PCM bytes; {len(chunks)} chat chunks, {len(audio)} with audio"


def _check_qwen_tts(ns: Dict) -> str:
    cb = ns.get("cb")
    if cb is None or not cb.finished.is_set():
        raise Failure("no session.finished within the snippet's wait")
    if not cb.audio:
        raise Failure("session.finished without audio")
    ns["tts"].close()
    return f"{len(cb.audio)} audio deltas, session.finished"


def _check_qwen_omni(ns: Dict) -> str:
    conv = ns["conv"]
    deadline = time.time() + 10
    while not conv.get_session_id() and time.time() < deadline:
        time.sleep(0.05)
    session = conv.get_session_id()
    conv.close()
    if not session:
        raise Failure("connect() gave no session.created within 10 s")
    return f"session {session}"


# The first line of each snippet (its comment) -> label and check.
CHECKS: List[Tuple[str, str, Callable[[Dict], str]]] = [
    ("# openai (GA;", "openai-ga", _check_openai_ga),
    ("# openai GPT-Live", "openai-live", _check_gpt_live),
    ("# google-genai (Gemini Live)", "gemini-live", _check_gemini),
    ("# openai TTS and chat completions", "openai-http", _check_openai_http),
    ("# dashscope Qwen-TTS realtime", "qwen-tts", _check_qwen_tts),
    ("# dashscope (Qwen-Omni realtime)", "qwen-omni", _check_qwen_omni),
]


def _check_for(source: str) -> Tuple[str, Callable[[Dict], str]]:
    first = source.lstrip().splitlines()[0] if source.strip() else ""
    for prefix, label, check in CHECKS:
        if first.startswith(prefix):
            return label, check
    raise Failure(f"no check for a snippet starting {first!r}: add one to CHECKS")


def _timeout(signum, frame):  # noqa: ARG001
    raise TimeoutError(f"a snippet ran over {PER_SNIPPET_SECONDS} s")


async def _run(paths: List[str]) -> int:
    namespace: Dict = {"__name__": "__readme__"}
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    for path in paths:
        with open(path, encoding="utf-8") as f:
            source = f.read()
        label, check = _check_for(source)
        code = compile(source, f"README.md ({label} snippet)", "exec", flags=flags)
        signal.alarm(PER_SNIPPET_SECONDS)
        try:
            result = eval(code, namespace)  # noqa: S307 - the README's own code
            if inspect.iscoroutine(result):
                await result
            detail = check(namespace)
        finally:
            signal.alarm(0)
        print(f"OK {label}: {detail}", flush=True)
    print(f"OK readme-snippets {len(paths)}", flush=True)
    return 0


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    signal.signal(signal.SIGALRM, _timeout)
    try:
        return asyncio.run(_run(sys.argv[1:]))
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
