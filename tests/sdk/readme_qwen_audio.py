"""Runs the README's Qwen-Audio-Realtime snippet as written, then its session.

The Rust test (`cli/tests/readme_qwen_audio.rs`) extracts the snippet from
README.md, points it at `understudy serve --engine replay` (the port is the only
change) and passes it here as a file. The snippet must leave a connected
`rt` (the pinned dashscope SDK's v2 `RealtimeSession`); that session then plays
the smart-turn scenario of `dashscope_audio_turn.py` against the cassette the
snippet's header names — a bystander heard as ambient speech, the user answered —
with that harness's strict checks.

    $PY tests/sdk/readme_qwen_audio.py SNIPPET_FILE CASSETTE

CASSETTE is the name the snippet's header carries (read from the snippet by the
Rust test); it only selects the harness's replay checks — the server replays
only if the snippet's own header reached it.
"""
import argparse
import os
import queue
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashscope_audio_turn as harness  # noqa: E402


class _NoClient:
    """The snippet's `Client` is not kept; closing the session is enough."""

    def close(self) -> None:
        pass


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    snippet_path, cassette = sys.argv[1], sys.argv[2]
    with open(snippet_path, encoding="utf-8") as f:
        snippet = f.read()
    namespace: dict = {}
    exec(compile(snippet, "README.md (Qwen-Audio snippet)", "exec"), namespace)
    rt = namespace.get("rt")
    from dashscope.v2.resources.audio.realtime import RealtimeSession
    if not isinstance(rt, RealtimeSession):
        print(f"FAIL: the snippet's `rt` is {type(rt).__name__}, not the SDK's RealtimeSession")
        return 1

    class SnippetRun(harness.Run):
        """The harness's session, adopting the snippet's connected `rt`."""

        def __init__(self, args: argparse.Namespace) -> None:
            self.args = args
            self.q = queue.Queue()
            self.ck = harness.Checker()
            self.cursor = 0
            self.client = _NoClient()
            self.rt = rt
            self.stop = False
            self.thread = threading.Thread(target=self._receive, daemon=True)
            self.thread.start()

    harness.Run = SnippetRun
    args = argparse.Namespace(url=rt.url, scenario="smart-turn", model=rt.model,
                              api_key="sk-test", cassette=cassette, voiceprint=False,
                              timeout=30.0)
    try:
        code = harness.run_smart_turn(args)
    except harness.HarnessFailure as e:
        print(f"FAIL: {e}", flush=True)
        return 1
    if code == 0:
        print(f"OK readme ({rt.model}, {cassette})", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
