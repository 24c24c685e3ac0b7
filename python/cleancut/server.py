"""HTTP API + WebUI (FastAPI): POST /api/remove, GET /healthz, the page at /, OpenAPI at /docs.

Inference and codecs run on the micro-batcher's worker thread; hashing runs in a thread too, so
the event loop only moves bytes. rembg's form names (model, a, af, ab, ae, om, ppm, bgc) work.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile

from . import __version__, _native, compose
from .api import CutOptions, finish_png
from .batching import MicroBatcher, QueueFullError
from .cache import ResultCache, content_key
from .decode import DEFAULT_MAX_PIXELS, decode_image
from .encode import DEFAULT_COMPRESS_LEVEL
from .errors import ImageTooLargeError, InvalidInputError
from .session import Session, default_session


@dataclass
class ServerConfig:
    max_upload_bytes: int = 32 << 20
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_batch: int = 4
    max_wait_ms: float = 5.0
    max_queue: int = 64
    cache_bytes: int = 256 << 20
    api_key: str | None = None
    allow_url: bool = False
    workers: int | None = None  # batches run side by side; None: one per core (Session.lanes caps it)


@dataclass(frozen=True)
class Job:
    data: bytes
    options: CutOptions
    max_side: int | None


TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
ACCEPTED_TYPES = ("image/", "application/octet-stream")
PARAMETERS = [  # (name, rembg alias, type, description) — documented in OpenAPI, read from query or form
    ("only_mask", "om", "boolean", "return only the alpha mask"),
    ("post_process_mask", "ppm", "boolean", "rembg's binary mask post-processing"),
    ("bgcolor", "bgc", "string", "background colour 'r,g,b[,a]' (0..255)"),
    ("max_side", None, "integer", "downscale first so the long side is at most this"),
    ("erode", None, "integer", "erode the alpha by this radius"),
    ("dilate", None, "integer", "dilate the alpha by this radius"),
    ("edge_blur", None, "number", "Gaussian sigma for the edge band"),
    ("refine_foreground", "rf", "boolean", "correct edge colours (no halo of the old background)"),
    ("alpha_matting", "a", "boolean", "alpha matting of the edge band (implies refine_foreground)"),
    ("alpha_matting_foreground_threshold", "af", "integer", "trimap: sure foreground above this (0..255, default 240)"),
    ("alpha_matting_background_threshold", "ab", "integer", "trimap: sure background below this (0..255, default 10)"),
    ("alpha_matting_erode_size", "ae", "integer", "trimap: shrink the sure regions by this (0..128, default 10)"),
    ("compress_level", None, "integer", f"PNG: 0..2 fast (ISA-L; default {DEFAULT_COMPRESS_LEVEL}), 3..9 smaller and slower (zlib-ng)"),
    ("model", None, "string", "must name the model this server runs"),
]


class _HttpRedirectsOnly(urllib.request.HTTPRedirectHandler):
    """urllib also follows redirects to ftp:, which a fetched URL must not reach."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not newurl.lower().startswith(("http://", "https://")):
            raise urllib.error.HTTPError(newurl, code, f"redirected to a non-http(s) URL {newurl}", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_FETCH = urllib.request.build_opener(_HttpRedirectsOnly)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, detail=message, headers=headers)


def _flag(name: str, value: str) -> bool:
    if value.strip().lower() in TRUE:
        return True
    if value.strip().lower() in FALSE:
        return False
    raise _error(400, f"{name} must be true or false, got {value!r}")


def _number(name: str, value: str, kind: type, low: float, high: float) -> Any:
    try:
        number = kind(value)
    except ValueError:
        raise _error(400, f"{name} must be {'an integer' if kind is int else 'a number'}, got {value!r}") from None
    if not low <= number <= high:
        raise _error(400, f"{name} must be in {low}..{high}, got {value!r}")
    return number


def parse_options(fields: dict[str, str], model: str) -> tuple[CutOptions, int | None]:
    values: dict[str, str] = {}
    for name, alias, _, _ in PARAMETERS:
        if alias and alias in fields:
            values[name] = fields[alias]
        if name in fields:
            values[name] = fields[name]
    if values.get("model", model) != model:
        raise _error(400, f"this server runs the model {model!r}, not {values['model']!r}")
    bgcolor = None
    if values.get("bgcolor"):
        text = values["bgcolor"].strip()
        try:
            parts = json.loads(text) if text.startswith("[") else [int(v) for v in text.split(",")]
            bgcolor = compose.parse_bgcolor(parts)
        except (ValueError, TypeError, InvalidInputError):
            raise _error(400, f"bgcolor must be 'r,g,b' or 'r,g,b,a' with values in 0..255, got {text!r}") from None
    options = CutOptions.from_keywords(
        only_mask=_flag("only_mask", values.get("only_mask", "false")),
        post_process_mask=_flag("post_process_mask", values.get("post_process_mask", "false")),
        bgcolor=bgcolor,
        erode_radius=_number("erode", values.get("erode", "0"), int, 0, 64),
        dilate_radius=_number("dilate", values.get("dilate", "0"), int, 0, 64),
        edge_blur=_number("edge_blur", values.get("edge_blur", "0"), float, 0, 32),
        refine_foreground=_flag("refine_foreground", values.get("refine_foreground", "false")),
        alpha_matting=_flag("alpha_matting", values.get("alpha_matting", "false")),
        alpha_matting_foreground_threshold=_number("alpha_matting_foreground_threshold", values.get("alpha_matting_foreground_threshold", "240"), int, 0, 255),
        alpha_matting_background_threshold=_number("alpha_matting_background_threshold", values.get("alpha_matting_background_threshold", "10"), int, 0, 255),
        alpha_matting_erode_size=_number("alpha_matting_erode_size", values.get("alpha_matting_erode_size", "10"), int, 0, 128),
        compress_level=_number("compress_level", values.get("compress_level", str(DEFAULT_COMPRESS_LEVEL)), int, 0, 9),
    )
    max_side = _number("max_side", values["max_side"], int, 1, 1 << 16) if values.get("max_side") else None
    return options, max_side


def _openapi_parameters() -> list[dict]:
    params = []
    for name, alias, kind, text in PARAMETERS:
        params.append({"name": name, "in": "query", "required": False, "schema": {"type": kind}, "description": text})
        if alias:
            params.append({"name": alias, "in": "query", "required": False, "schema": {"type": kind}, "description": f"rembg's name for {name}"})
    return params


ERRORS = {
    400: {"description": "bad options or an image that cannot be decoded"},
    401: {"description": "missing or wrong X-API-Key"},
    403: {"description": "fetching by URL is disabled"},
    413: {"description": "upload or image too large"},
    415: {"description": "not an image content type"},
    503: {"description": "queue full; retry after Retry-After seconds"},
}
PNG = {200: {"content": {"image/png": {}}, "description": "the cut-out (or mask) as PNG"}}


def create_app(config: ServerConfig | None = None, session: Session | None = None) -> FastAPI:
    config = config or ServerConfig()
    session = session or default_session()
    cache = ResultCache(config.cache_bytes)

    # One worker per lane, as remove_batch runs them: on CPU backends each with a network on its share
    # of the cores, so one batch's decode and encode overlap another's inference; on a GPU they share it.
    lanes = session.lanes(config.workers or session.threads)
    in_flight, in_flight_lock = [0], threading.Lock()

    def run_batch(lane: Session, jobs: list[Job]) -> list[bytes | BaseException]:
        # A batch with nothing else running or waiting gets every core, as remove() does: on its
        # lane's one-core network a lone 2048² request took 117 instead of 73 ms (2 cores).
        with in_flight_lock:
            in_flight[0] += 1
            alone = in_flight[0] == 1 and batcher.queued == 0
        try:
            return cut_batch(session if alone else lane, jobs, alone)
        finally:
            with in_flight_lock:
                in_flight[0] -= 1

    def cut_batch(lane: Session, jobs: list[Job], alone: bool) -> list[bytes | BaseException]:
        decoded: list[Any] = []
        for job in jobs:
            try:
                decoded.append(decode_image(job.data, max_pixels=config.max_pixels, max_side=job.max_side))
            except Exception as e:
                decoded.append(e)
        pixels = [d.pixels for d in decoded if not isinstance(d, BaseException)]
        # A GPU network runs every batch at max_batch: one shape, one ONNX Runtime session (backends.GPU_SESSIONS).
        saliency = iter(lane.predict(pixels, threads=None if alone else 1, pad_to=config.max_batch)) if pixels else iter(())
        results: list[bytes | BaseException] = []
        for job, image in zip(jobs, decoded):
            if isinstance(image, BaseException):
                results.append(image)
                continue
            try:
                results.append(finish_png(image, next(saliency), job.options, parallel=alone))
            except Exception as e:
                results.append(e)
        return results

    batcher = MicroBatcher([functools.partial(run_batch, lane) for lane in lanes], config.max_batch, config.max_wait_ms,
                           config.max_queue)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        batcher.close()

    app = FastAPI(title="cleancut", version=__version__, description="Background removal with U²-Net.", lifespan=lifespan)
    app.state.batcher, app.state.cache, app.state.config = batcher, cache, config
    web = resources.files("cleancut") / "web"
    app.mount("/static", StaticFiles(directory=str(web)), name="static")

    def check_key(request: Request) -> None:
        if config.api_key and not hmac.compare_digest(request.headers.get("x-api-key", ""), config.api_key):
            raise _error(401, "missing or wrong X-API-Key header")

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > config.max_upload_bytes:
            raise _error(413, f"upload is over the {config.max_upload_bytes:,}-byte limit")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > config.max_upload_bytes:
                raise _error(413, f"upload is over the {config.max_upload_bytes:,}-byte limit")
            chunks.append(chunk)
        body = b"".join(chunks)
        request._body = body  # lets request.form() parse what was already read
        return body

    async def cut(data: bytes, fields: dict[str, str]) -> Response:
        if not data:
            raise _error(400, "no image data (0 bytes)")
        options, max_side = parse_options(fields, session.name)
        key = await asyncio.to_thread(content_key, data, repr((options, max_side)))
        cached = cache.get(key)
        if cached is not None:
            return Response(cached, media_type="image/png", headers={"X-Cache": "hit"})
        try:
            png = await batcher.run(Job(data, options, max_side))
        except QueueFullError as e:
            raise _error(503, str(e), {"Retry-After": "1"}) from None
        except ImageTooLargeError as e:
            raise _error(413, str(e)) from None
        except InvalidInputError as e:
            raise _error(400, str(e)) from None
        cache.put(key, png)
        return Response(png, media_type="image/png", headers={"X-Cache": "miss"})

    @app.post(
        "/api/remove",
        responses={**PNG, **ERRORS},
        response_class=Response,
        openapi_extra={
            "parameters": _openapi_parameters(),
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}
                    },
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                },
            },
        },
    )
    async def remove_upload(request: Request) -> Response:
        """Cut out an uploaded image: multipart field `file`, or the raw image as the body."""
        check_key(request)
        body = await read_body(request)
        fields = dict(request.query_params)
        content_type = request.headers.get("content-type", "").lower()
        if content_type.startswith("multipart/form-data"):
            try:
                form = await request.form()
            except Exception as e:
                raise _error(400, f"malformed multipart body: {getattr(e, 'detail', e)}") from None
            try:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise _error(400, "the multipart body needs a 'file' field holding the image")
                if upload.content_type and not upload.content_type.lower().startswith(ACCEPTED_TYPES):
                    raise _error(415, f"'file' must be an image, not {upload.content_type}")
                fields.update({k: v for k, v in form.items() if isinstance(v, str)})
                data = await upload.read()
            finally:
                await form.close()  # closes the spooled upload files
        elif content_type.startswith(ACCEPTED_TYPES) or not content_type:
            data = body
        else:
            raise _error(415, f"send an image (image/*) or multipart/form-data, not {content_type}")
        return await cut(data, fields)

    @app.get("/api/remove", responses={**PNG, **ERRORS}, response_class=Response,
             openapi_extra={"parameters": [{"name": "url", "in": "query", "required": True, "schema": {"type": "string"}}]})
    async def remove_url(request: Request) -> Response:
        """Cut out the image at `url` (only when the server was started with URL fetching enabled)."""
        check_key(request)
        if not config.allow_url:
            raise _error(403, "fetching images by URL is disabled on this server (start it with --allow-url)")
        url = request.query_params.get("url", "")
        if not url.lower().startswith(("http://", "https://")):
            raise _error(400, "url must be an http(s) URL")

        def fetch() -> bytes:
            with _FETCH.open(url, timeout=20) as response:
                data = response.read(config.max_upload_bytes + 1)
            if len(data) > config.max_upload_bytes:
                raise _error(413, f"the image at url is over the {config.max_upload_bytes:,}-byte limit")
            return data

        try:
            data = await asyncio.to_thread(fetch)
        except HTTPException:
            raise
        except Exception as e:
            raise _error(400, f"cannot fetch {url}: {e}") from None
        return await cut(data, dict(request.query_params))

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """Liveness, what runs the cuts, and batching and cache counters."""
        return JSONResponse({
            "status": "ok",
            "model": session.name,
            "backend": session.backend,
            "isa": _native.active.isa,
            "workers": len(lanes),
            "batches": batcher.batches,
            "images": batcher.items,
            "largest_batch": batcher.largest_batch,
            "queued": batcher.queued,
            "cache": {"entries": len(cache), "bytes": cache.bytes, "hits": cache.hits, "misses": cache.misses},
        })

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse((web / "index.html").read_text(encoding="utf-8"))

    return app
