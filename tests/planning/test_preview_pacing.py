"""Previews of a streamed answer cost a few times its length, not its length squared, and
a pause in the stream still shows what has arrived."""

from __future__ import annotations

import asyncio

from server.llm.previews import PAUSE_SECONDS, PreviewPacer


async def test_looking_at_a_streamed_answer_costs_a_few_times_its_length():
    looked: list[str] = []

    async def look(text: str) -> None:
        looked.append(text)

    pacer = PreviewPacer(look)
    answer = ""
    for _ in range(20_000):  # 20,000 chunks of 5 characters
        answer += "abcde"
        await pacer.offer(answer)
    await pacer.close()
    assert pacer.looked_chars <= 6 * len(answer)
    assert looked == sorted(looked, key=len)  # in order, each one longer
    assert len(looked) < 60


async def test_a_pause_in_the_stream_shows_what_has_arrived():
    looked: list[str] = []

    async def look(text: str) -> None:
        looked.append(text)

    pacer = PreviewPacer(look)
    await pacer.offer("x" * 100)
    await pacer.offer("x" * 110)  # not grown enough for a look of its own
    assert looked == ["x" * 100]
    await asyncio.sleep(PAUSE_SECONDS * 2)
    assert looked == ["x" * 100, "x" * 110]
    await pacer.close()
