"""A worker process for the worker pool's tests: it does what each request says.

Run by ``WorkerPool("tests.support.misbehaving_worker", ...)``.
"""

from __future__ import annotations

import os
import time

from server.documents.worker_pool import JsonObject, serve


def handle(request: JsonObject, data: bytes) -> JsonObject:
    action = request["action"]
    if action == "sleep":
        time.sleep(request["seconds"])
    elif action == "exit":
        os._exit(3)
    elif action == "allocate":
        bytearray(request["bytes"])
    elif action == "print":
        print("a library chatting on stdout")
    return {"pid": os.getpid(), "data": data.decode(), "environment": sorted(os.environ)}


if __name__ == "__main__":
    serve(handle)
