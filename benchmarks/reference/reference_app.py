"""Reference service for the queue benchmark.

It follows the design of the original Python deferred-diffusion server: a
FastAPI app that checks an API key stored in Redis, sends each request as a
Celery task through a Redis broker, and serves polls from the Celery result
backend, scanning the broker queue to report waiting tasks. The worker task
returns at once, like the `dev-*` models with `steps=0` on our side, so both
measure queue overhead only.

Environment: REFERENCE_REDIS (redis://host:port), REFERENCE_API_KEY (a key
`dd_<id>_<secret>` that is stored in Redis at start-up).
"""

import hashlib
import hmac
import os
import secrets
import uuid

import redis
from celery import Celery
from celery.result import AsyncResult
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

REDIS_URL = os.environ["REFERENCE_REDIS"]
QUEUE = "gpu"

celery_app = Celery("reference", broker=f"{REDIS_URL}/0", backend=f"{REDIS_URL}/1")
celery_app.conf.update(
    task_track_started=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    result_expires=30 * 24 * 3600,
)
store = redis.Redis.from_url(f"{REDIS_URL}/0")


def _register_key(token: str) -> None:
    _, key_id, secret = token.split("_")
    salt = secrets.token_hex(16)
    digest = hashlib.sha256((secret + salt).encode()).hexdigest()
    store.hset(f"API_KEY:{key_id}", mapping={"name": "bench", "hash": digest, "salt": salt})


_register_key(os.environ["REFERENCE_API_KEY"])


class ImageRequest(BaseModel):
    model: str
    prompt: str = "Detailed, 8k, photorealistic"
    width: int = 1280
    height: int = 720
    seed: int = 42


@celery_app.task(name="images.dev")
def generate(request: dict) -> dict:
    return {"output": [], "logs": [f"generated {request['model']}"]}


api = FastAPI()


def _check_key(authorization: str | None) -> None:
    token = (authorization or "").removeprefix("Bearer ").strip()
    parts = token.split("_")
    if len(parts) != 3:
        raise HTTPException(status_code=403, detail="Missing authorization token")
    stored = store.hgetall(f"API_KEY:{parts[1]}")
    if not stored:
        raise HTTPException(status_code=403, detail="Invalid or revoked token")
    digest = hashlib.sha256((parts[2] + stored[b"salt"].decode()).encode()).hexdigest()
    if not hmac.compare_digest(digest, stored[b"hash"].decode()):
        raise HTTPException(status_code=403, detail="Invalid or revoked token")


@api.get("/health")
def health() -> dict:
    return {"status": "healthy"}


@api.post("/api/images")
def create(request: ImageRequest, authorization: str | None = Header(default=None)) -> dict:
    _check_key(authorization)
    if store.llen(QUEUE) >= 100_000:
        raise HTTPException(status_code=429, detail="backlog limit reached")
    result = celery_app.send_task("images.dev", args=[request.model_dump()], queue=QUEUE)
    return {"id": result.id, "status": "PENDING"}


@api.get("/api/images/{task_id}")
def get(task_id: uuid.UUID, authorization: str | None = Header(default=None)) -> dict:
    _check_key(authorization)
    result = AsyncResult(str(task_id), app=celery_app)
    state = result.state
    if state == "PENDING":
        waiting = store.lrange(QUEUE, 0, -1)
        for position, message in enumerate(reversed(waiting), start=1):
            if str(task_id).encode() in message:
                line = f"Queue {QUEUE} position: {position} / {len(waiting)}"
                return {"id": str(task_id), "status": "PENDING", "output": [], "logs": [line]}
        raise HTTPException(status_code=404, detail="Task not found or has expired")
    if state == "SUCCESS":
        return {"id": str(task_id), "status": state, "output": result.result["output"], "logs": result.result["logs"]}
    return {"id": str(task_id), "status": state, "output": [], "logs": []}
