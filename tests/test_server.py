"""The HTTP API against a real uvicorn on 127.0.0.1: routes, errors, cache, batching, load."""

import copy
import io
import socket
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from PIL import Image

import cleancut
from cleancut import _native, backends
from cleancut.server import ServerConfig, create_app
from cleancut.session import Session
from conftest import BatchSizes
from serving import photo_bytes, running, tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tiny_model(tmp_path_factory.mktemp("model") / "tiny.onnx")
    return Session(path, "tiny")


@pytest.fixture(scope="module")
def server(session):
    with running(create_app(ServerConfig(max_upload_bytes=4 << 20), session)) as url:
        yield url


def png(response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def test_upload_multipart_and_raw_body(server):
    data = photo_bytes(1, (120, 80), "JPEG")
    multipart = png(httpx.post(f"{server}/api/remove", files={"file": ("a.jpg", data, "image/jpeg")}))
    raw = png(httpx.post(f"{server}/api/remove", content=data, headers={"content-type": "image/jpeg"}))
    assert multipart.mode == raw.mode == "RGBA" and multipart.size == (120, 80)
    assert np.array_equal(np.asarray(multipart), np.asarray(raw))


def test_a_cut_out_keeps_the_uploads_colour_profile(server):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo_bytes(3, (90, 60), "JPEG"))).save(buffer, "JPEG", icc_profile=profile)
    tagged = png(httpx.post(f"{server}/api/remove", content=buffer.getvalue(), headers={"content-type": "image/jpeg"}))
    assert tagged.info.get("icc_profile") == profile
    assert "icc_profile" not in png(httpx.post(f"{server}/api/remove", content=photo_bytes(3, (90, 60), "JPEG"))).info
    assert "icc_profile" not in png(httpx.post(f"{server}/api/remove?om=1", content=buffer.getvalue())).info


def test_rembg_form_names(server):
    data = photo_bytes(2)
    mask = png(httpx.post(f"{server}/api/remove", files={"file": ("a.png", data, "image/png")}, data={"om": "true"}))
    assert mask.mode == "L"
    white = png(httpx.post(f"{server}/api/remove?bgc=255,255,255,255", content=data))
    assert (np.asarray(white)[..., 3] == 255).all()
    binary = png(httpx.post(f"{server}/api/remove", files={"file": ("a.png", data)}, data={"ppm": "1", "om": "1", "model": "u2netp"}))
    assert set(np.unique(np.asarray(binary))) <= {0, 255}


def test_edge_options(server):
    """rembg's a/af/ab/ae and refine_foreground: sure regions stay exact, edge colours change."""
    from skimage import data as photos

    buffer = io.BytesIO()
    Image.fromarray(photos.chelsea()).resize((300, 200)).save(buffer, "PNG")
    data = buffer.getvalue()
    plain = np.asarray(png(httpx.post(f"{server}/api/remove", content=data)))
    clean = np.asarray(png(httpx.post(f"{server}/api/remove", content=data, params={"refine_foreground": "true"})))
    matted = np.asarray(png(httpx.post(f"{server}/api/remove", files={"file": ("a.png", data)},
                                       data={"a": "1", "af": "230", "ab": "20", "ae": "6"})))
    assert np.array_equal(plain[..., 3], clean[..., 3]) and not np.array_equal(plain[..., :3], clean[..., :3])
    assert matted.shape == plain.shape and not np.array_equal(matted[..., 3], plain[..., 3])


def test_compress_level(server):
    from skimage import data as photos

    buffer = io.BytesIO()
    Image.fromarray(photos.astronaut()).save(buffer, "JPEG")
    data = buffer.getvalue()
    fast, small = (httpx.post(f"{server}/api/remove", content=data, params={"compress_level": level}) for level in ("1", "9"))
    assert len(small.content) < len(fast.content)
    assert np.array_equal(np.asarray(png(small)), np.asarray(png(fast)))


def test_health_docs_and_page(server):
    health = httpx.get(f"{server}/healthz").json()
    assert health["status"] == "ok" and health["model"] == "u2netp"
    assert health["backend"] in backends.NAMES and health["isa"] in _native.available_isas
    assert httpx.get(f"{server}/docs").status_code == 200
    assert "/api/remove" in httpx.get(f"{server}/openapi.json").json()["paths"]
    page = httpx.get(f"{server}/")
    assert page.status_code == 200 and 'id="drop"' in page.text
    assert httpx.get(f"{server}/static/app.js").status_code == 200


def png_header_claiming(width, height):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "request_args, status, message",
    [
        ({"content": b"x" * (5 << 20)}, 413, "byte limit"),
        ({"content": png_header_claiming(50000, 50000)}, 413, "too large"),
        ({"content": b"hello", "headers": {"content-type": "text/plain"}}, 415, "image"),
        ({"files": {"file": ("a.txt", b"hello", "text/plain")}}, 415, "must be an image"),
        ({"content": b"\x89PNG\r\n\x1a\n" + b"\0" * 40}, 400, "cannot"),
        ({"content": b""}, 400, "0 bytes"),
        ({"files": {"nofile": ("a.png", b"x")}}, 400, "'file' field"),
        ({"content": photo_bytes(3), "params": {"a": "true", "af": "300"}}, 400, "alpha_matting_foreground_threshold"),
        ({"content": photo_bytes(3), "params": {"bgc": "1,2"}}, 400, "bgcolor"),
        ({"content": photo_bytes(3), "params": {"bgc": "[1.5, 2, 3]"}}, 400, "bgcolor"),
        ({"content": photo_bytes(3), "headers": {"content-type": "multipart/form-data; boundary=xyz"}}, 400,
         "malformed multipart body: Invalid multipart data"),
        ({"content": photo_bytes(3), "params": {"om": "maybe"}}, 400, "true or false"),
        ({"content": photo_bytes(3), "params": {"model": "u2net"}}, 400, "runs the model"),
        ({"content": photo_bytes(3), "params": {"max_side": "0"}}, 400, "max_side"),
        ({"content": photo_bytes(3), "params": {"compress_level": "10"}}, 400, "compress_level"),
    ],
    ids=["upload-too-big", "too-many-pixels", "text-body", "text-file", "corrupt", "empty", "no-file-field",
         "bad-matting-threshold", "bad-bgcolor", "float-bgcolor", "malformed-multipart", "bad-flag", "other-model", "bad-max-side", "bad-compress-level"],
)
def test_errors_are_json_4xx(server, request_args, status, message):
    response = httpx.post(f"{server}/api/remove", **request_args)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_url_fetching_is_off_by_default(server):
    response = httpx.get(f"{server}/api/remove", params={"url": "http://127.0.0.1:9/x.png"})
    assert response.status_code == 403 and "disabled" in response.json()["detail"]


def test_url_fetching_when_allowed(tiny):
    """--allow-url against a local HTTP server: an image is cut as if uploaded; too large, missing,
    non-http(s), and a redirect to a file: URL are 4xx answers."""
    import http.server
    import threading

    image = photo_bytes(7)

    class Files(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = {"/photo.png": image, "/big.png": b"\x89PNG" + bytes(200_000)}.get(self.path)
            if self.path.startswith("/to-"):
                self.send_response(302)
                self.send_header("Location", {"/to-file": "file:///etc/passwd", "/to-ftp": f"ftp://127.0.0.1:{ftp_port}/x.png"}[self.path])
                self.end_headers()
                return
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    listener = socket.socket()  # where the ftp: redirect points: it must never be connected to
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    ftp_port = listener.getsockname()[1]
    files = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    threading.Thread(target=files.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{files.server_address[1]}"
    try:
        with running(create_app(ServerConfig(max_upload_bytes=100_000, allow_url=True), tiny)) as url:
            fetched = httpx.get(f"{url}/api/remove", params={"url": f"{base}/photo.png", "om": "true"}, timeout=60)
            uploaded = httpx.post(f"{url}/api/remove", content=image, params={"om": "true"}, timeout=60)
            assert np.array_equal(np.asarray(png(fetched)), np.asarray(png(uploaded)))
            for target, status in ((f"{base}/big.png", 413), (f"{base}/missing.png", 400), (f"{base}/to-file", 400),
                                   (f"{base}/to-ftp", 400), ("file:///etc/passwd", 400), ("ftp://127.0.0.1/x.png", 400)):
                response = httpx.get(f"{url}/api/remove", params={"url": target}, timeout=60)
                assert response.status_code == status, (target, response.text)
                assert "root:" not in response.text
            with pytest.raises(TimeoutError):
                listener.accept()[0].close()  # nobody followed the redirect to ftp:
    finally:
        files.shutdown()
        files.server_close()
        listener.close()


def test_api_key(tiny):
    with running(create_app(ServerConfig(api_key="s3cret"), tiny)) as url:
        assert httpx.post(f"{url}/api/remove", content=photo_bytes(4)).status_code == 401
        assert httpx.post(f"{url}/api/remove", content=photo_bytes(4), headers={"X-API-Key": "wrong"}).status_code == 401
        assert httpx.post(f"{url}/api/remove", content=photo_bytes(4), headers={"X-API-Key": "s3cret"}).status_code == 200


def test_same_upload_twice_costs_one_inference(tiny):
    with running(create_app(ServerConfig(), tiny)) as url:
        data = photo_bytes(5)
        first = httpx.post(f"{url}/api/remove", content=data)
        second = httpx.post(f"{url}/api/remove", content=data)
        other_options = httpx.post(f"{url}/api/remove", content=data, params={"om": "1"})
        assert (first.headers["x-cache"], second.headers["x-cache"], other_options.headers["x-cache"]) == ("miss", "hit", "miss")
        assert first.content == second.content
        health = httpx.get(f"{url}/healthz").json()
        assert health["images"] == 2 and health["cache"]["hits"] == 1


def test_concurrent_requests_share_inferences(tiny):
    with running(create_app(ServerConfig(cache_bytes=0, max_batch=8, max_wait_ms=50), tiny)) as url:
        with httpx.Client() as client, ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda i: client.post(f"{url}/api/remove", content=photo_bytes(100 + i)), range(32)))
        assert all(r.status_code == 200 for r in responses)
        health = httpx.get(f"{url}/healthz").json()
        assert health["images"] == 32 and health["largest_batch"] > 1 and health["batches"] < 32


def test_a_gpu_network_runs_every_micro_batch_at_max_batch(tiny):
    """Micro-batches come in every size up to max_batch; on ONNX Runtime CUDA each change of
    batch size cost 0.5-1.8 s (H200), so a GPU network gets them padded to one shape."""
    gpu = copy.copy(tiny)
    gpu._backend = BatchSizes("onnxruntime-cuda", tiny._backend)
    data = photo_bytes(7)
    with running(create_app(ServerConfig(cache_bytes=0, max_batch=4), tiny)) as url:
        expected = httpx.post(f"{url}/api/remove", content=data)
    with running(create_app(ServerConfig(cache_bytes=0, max_batch=4), gpu)) as url:
        response = httpx.post(f"{url}/api/remove", content=data)
    assert response.status_code == 200 and response.content == expected.content
    assert gpu._backend.sizes == [4]


def test_batches_run_side_by_side_on_lanes_under_load_and_alone_on_every_core(tiny):
    """One worker per lane (2 cores: 2 one-core networks) overlaps one batch's decode and encode
    with another's inference; a request with nothing else running gets the whole session, as
    remove() does (on a lane a lone 2048² request took 117 instead of 73 ms). Same cut-outs either way."""
    two_cores = copy.copy(tiny)
    two_cores._threads, two_cores._lanes = 2, {}
    lanes = two_cores.lanes(2)
    assert [lane.threads for lane in lanes] == [1, 1]
    for s in (two_cores, *lanes):
        s._backend = BatchSizes(s.backend, s._backend)
    bodies = [photo_bytes(300 + i, (96, 80)) for i in range(24)]
    others = set(threading.enumerate())  # other tests' servers may still run theirs

    def workers():
        return sorted(t.name for t in set(threading.enumerate()) - others if t.name.startswith("cleancut-batcher"))

    with running(create_app(ServerConfig(cache_bytes=0, max_batch=1), two_cores)) as url:
        assert workers() == ["cleancut-batcher-0", "cleancut-batcher-1"]
        lone = httpx.post(f"{url}/api/remove", content=bodies[0])
        assert lone.status_code == 200 and two_cores._backend.sizes == [1] and not any(lane._backend.sizes for lane in lanes)
        with httpx.Client() as client, ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda b: client.post(f"{url}/api/remove", content=b), bodies))
        assert all(lane._backend.sizes for lane in lanes), "both lanes ran batches"
        health = httpx.get(f"{url}/healthz").json()
        assert (health["workers"], health["images"]) == (2, 25)
    assert workers() == [], "every worker stopped"
    assert [r.content for r in responses] == [cleancut.remove(b, session=tiny) for b in bodies]
    assert lone.content == responses[0].content


def test_full_queue_answers_503_with_retry_after(session):
    config = ServerConfig(cache_bytes=0, max_batch=1, max_wait_ms=0, max_queue=1)
    with running(create_app(config, session)) as url:
        with httpx.Client(timeout=60) as client, ThreadPoolExecutor(12) as pool:
            responses = list(pool.map(lambda i: client.post(f"{url}/api/remove", content=photo_bytes(200 + i)), range(12)))
    codes = [r.status_code for r in responses]
    assert set(codes) <= {200, 503} and 503 in codes and 200 in codes
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] == "1" and "busy" in busy.json()["detail"]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_memory_stays_flat_over_1000_requests(tiny):
    with running(create_app(ServerConfig(cache_bytes=0), tiny)) as url:
        with httpx.Client() as client:
            bodies = [photo_bytes(i) for i in range(20)]
            for i in range(100):
                assert client.post(f"{url}/api/remove", content=bodies[i % 20]).status_code == 200
            before = rss_bytes()
            for i in range(1000):
                assert client.post(f"{url}/api/remove", content=bodies[i % 20]).status_code == 200
            growth = rss_bytes() - before
    assert growth < 32 << 20, f"RSS grew by {growth / 2**20:.1f} MiB over 1000 requests"


def test_openapi_contract_with_schemathesis(tiny):
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    with running(create_app(ServerConfig(max_upload_bytes=1 << 20), tiny)) as url:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        failures, statuses = [], []
        for result in schema.get_all_operations():
            operation = result.ok()

            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(case=operation.as_strategy())
            def check(case):
                response = case.call(base_url=url)
                statuses.append(response.status_code)
                if response.status_code >= 500:
                    failures.append((case.method, case.path, response.status_code, response.text[:200]))

            check()
    assert not failures, failures
    assert len(statuses) >= 40 and 200 in statuses and any(400 <= s < 500 for s in statuses)
