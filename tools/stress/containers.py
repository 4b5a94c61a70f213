"""`--containers N`: N forked OS processes, each a simulated Lambda container that imported
the app once, owns one database connection, and serves one request at a time by calling the
real handler `app.app(event, context)` with an API Gateway REST proxy event, as the Lambda
runtime does."""
import multiprocessing
import os
import queue
import threading
import time
from typing import Callable, List, Optional, Sequence

from .events import Answer, LambdaContext, Request, api_gateway_event, no_answer, proxy_answer
from .targets import Client, EventClient, Target


def _invoke(handler, event: dict, timeout_s: float) -> Answer:
    context = LambdaContext(request_id=event["requestContext"]["requestId"], timeout_s=timeout_s)
    started = time.monotonic()
    try:
        response = handler(event, context)
    except Exception as error:  # the runtime would report a function error
        return no_answer(f"function error: {type(error).__name__}: {error}", started)
    return proxy_answer(response, started, time.monotonic())


def _container_main(connection, barrier, timeout_s: float) -> None:
    """One simulated Lambda container: cold start once, then serve one request at a time."""
    # Lambda sends a function's stdout (its request log lines) to CloudWatch Logs; here it
    # would land in the tool's own output and break --json. It is written, then dropped.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        import app as app_module  # the cold start: Chalice, chalicelib, pg8000
        from chalicelib import db
        handler = app_module.app
        db.connection()  # a warm container holds its connection from an earlier request
        connection.send(("ready", os.getpid()))
    except BaseException as error:
        connection.send(("failed", f"{type(error).__name__}: {error}"))
        return
    try:
        while True:
            try:
                job = connection.recv()
            except EOFError:
                return
            if job is None:
                return
            kind, events = job
            if kind == "batch":
                try:
                    barrier.wait(timeout_s)
                except threading.BrokenBarrierError:
                    connection.send([no_answer("barrier broken (a container did not start)") for _ in events])
                    continue
            connection.send([_invoke(handler, event, timeout_s) for event in events])
    finally:
        db.close()


class ContainersTarget(Target):
    """N forked processes. Requests go to whichever container is idle, one at a time each,
    as Lambda routes them; a burst gives each container its share behind one barrier."""

    def __init__(self, count: int, timeout: float = 30, start_timeout: float = 60):
        if count < 1:
            raise ValueError("--containers must be at least 1")
        self.count, self.timeout = count, timeout
        self.name = f"containers {count}"
        context = multiprocessing.get_context("fork")
        self.barrier = context.Barrier(count)
        self.connections, self.processes = [], []
        for _ in range(count):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=_container_main, args=(child_end, self.barrier, timeout), daemon=True)
            process.start()
            child_end.close()
            self.connections.append(parent_end)
            self.processes.append(process)
        self.idle: "queue.Queue[int]" = queue.Queue()
        deadline = time.monotonic() + start_timeout
        try:
            for index, connection in enumerate(self.connections):
                if not connection.poll(max(0.0, deadline - time.monotonic())):
                    raise RuntimeError(f"container {index} did not start within {start_timeout:.0f} s")
                status, detail = connection.recv()
                if status != "ready":
                    raise RuntimeError(f"container {index} failed to start: {detail}")
                self.idle.put(index)
        except BaseException:
            self.close()
            raise

    def client(self) -> Client:
        return EventClient(self)

    def _exchange(self, index: int, job, count: int, wait: float) -> List[Answer]:
        connection = self.connections[index]
        connection.send(job)
        if not connection.poll(wait):
            # A late answer would be taken for the next job's: this container is retired.
            self.connections[index] = None
            return [no_answer(f"timeout: container {index} did not answer within {wait:.0f} s")] * count
        return connection.recv()

    def invoke(self, event: dict) -> Answer:
        started = time.monotonic()
        try:
            index = self.idle.get(timeout=self.timeout)
        except queue.Empty:
            return no_answer("timeout: no container became idle", started)
        answer = self._exchange(index, ("one", [event]), 1, self.timeout)[0]
        if self.connections[index] is not None:
            self.idle.put(index)
        return answer

    def burst(self, requests: Sequence[Request], timeout: float,
              on_answer: Callable[[int], None] = lambda count: None) -> List[Answer]:
        events = [api_gateway_event(request) for request in requests]
        # Take every container (none is busy between scenario steps), deal the events out.
        indices = [self.idle.get(timeout=timeout) for _ in range(self.count)]
        shares = {index: list(range(slot, len(events), self.count)) for slot, index in enumerate(indices)}
        for index in indices:
            self.connections[index].send(("batch", [events[i] for i in shares[index]]))
        answers: List[Optional[Answer]] = [None] * len(events)
        deadline = time.monotonic() + timeout * max(1, len(events) // self.count + 1) + 5
        for index in indices:
            connection = self.connections[index]
            if connection.poll(max(0.0, deadline - time.monotonic())):
                for position, answer in zip(shares[index], connection.recv()):
                    answers[position] = answer
                self.idle.put(index)
            else:
                self.connections[index] = None
            on_answer(len(shares[index]))
        return [answer or no_answer("timeout: container did not answer in time") for answer in answers]

    def close(self) -> None:
        for connection in self.connections:
            if connection is not None:
                try:
                    connection.send(None)
                except (OSError, ValueError):
                    pass
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.terminate()
                process.join(5)
